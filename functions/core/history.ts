// The run history beside the ledger (state/history.json): one summary per run, full runs and scoped
// (targeted, event, --store or --rule) runs kept apart, each list bounded. Pure: the history and a
// report in, the next history out; the trend and the change since the last full run read from it.
import * as z from 'zod';
import { StateCorruptError } from './errors.js';
import type { Report, ReportTrend, TrendPoint } from './report.js';
import { SEVERITIES } from './model.js';
import { parseJson } from './validation.js';

export const HISTORY_KEY = 'state/history.json';
/** A year of nightly runs, and a little more. */
export const MAX_FULL_RUNS = 400;
/** Event runs come many a day: the last 400 of them are kept. */
export const MAX_SCOPED_RUNS = 400;
/** The trend in the HTML report: the last 90 full runs. */
export const TREND_RUNS = 90;

const count = z.number().int().nonnegative();

const entrySchema = z.object({
  runId: z.string(),
  at: z.string(),
  trigger: z.string(),
  status: z.string(),
  findings: count,
  new: count,
  resolved: count,
  /** Unsuppressed findings by severity: what is open after the run. */
  openBySeverity: z.record(z.string(), count),
  byRule: z.record(z.string(), count),
  byStore: z.record(z.string(), count),
  bytes: z
    .object({ unbilled: count, misbilled: count, unknownSize: count, billedButGone: count.optional() })
    .optional(),
  scope: z
    .object({ stores: z.array(z.string()), rules: z.array(z.string()), buckets: z.array(z.string()) })
    .optional(),
});
export type HistoryEntry = z.infer<typeof entrySchema>;

const historySchema = z.object({
  schemaVersion: z.literal(1),
  full: z.array(entrySchema),
  scoped: z.array(entrySchema),
});
export type History = z.infer<typeof historySchema>;

export function emptyHistory(): History {
  return { schemaVersion: 1, full: [], scoped: [] };
}

export function parseHistory(text: string, where: string): History {
  return parseJson(historySchema, text, (problem, cause) =>
    problem.kind === 'not-json'
      ? new StateCorruptError(`${where} is not valid JSON; move it aside to start a new history`, { cause })
      : new StateCorruptError(`${where} is not a csdrift history (${problem.detail}); move it aside`, {
          cause,
        }),
  );
}

/** A run over everything: no store, rule or bucket named, and not started by an event. */
export function isFullRun(report: Pick<Report, 'scope' | 'trigger'>): boolean {
  const scope = report.scope ?? { stores: [], rules: [], buckets: [] };
  return report.trigger !== 'event' && !scope.stores.length && !scope.rules.length && !scope.buckets.length;
}

export function historyEntry(report: Report): HistoryEntry {
  const open = report.findings.filter((f) => f.status !== 'suppressed');
  const tally = (key: (f: (typeof open)[number]) => string) =>
    open.reduce<Record<string, number>>((acc, f) => ({ ...acc, [key(f)]: (acc[key(f)] ?? 0) + 1 }), {});
  const full = isFullRun(report);
  return {
    runId: report.runId,
    at: report.finishedAt,
    trigger: report.trigger,
    status: report.status,
    findings: report.summary.findings,
    new: report.summary.new,
    resolved: report.summary.resolved,
    openBySeverity: tally((f) => f.severity),
    byRule: tally((f) => f.rule),
    byStore: tally((f) => f.store.name),
    ...(report.summary.bytes ? { bytes: report.summary.bytes } : {}),
    ...(full ? {} : { scope: report.scope }),
  };
}

/** The history with this run in its list (once, however often it is written), oldest first, bounded. */
export function appendToHistory(history: History | null, report: Report): History {
  const base = history ?? emptyHistory();
  const entry = historyEntry(report);
  const list = isFullRun(report) ? 'full' : 'scoped';
  const max = list === 'full' ? MAX_FULL_RUNS : MAX_SCOPED_RUNS;
  const entries = [...base[list].filter((e) => e.runId !== entry.runId), entry].sort((a, b) =>
    a.at.localeCompare(b.at),
  );
  return { ...base, [list]: entries.slice(-max) };
}

/** The full run before this one: what "since the last full run" compares with. */
export function previousFullRun(
  history: History | null,
  runId: string,
  before: string,
): HistoryEntry | undefined {
  return history?.full.filter((e) => e.runId !== runId && e.at < before).at(-1);
}

/** The trend of a full run's report from the history that already holds it. */
export function reportTrend(history: History, report: Pick<Report, 'runId' | 'finishedAt'>): ReportTrend {
  const before = previousFullRun(history, report.runId, report.finishedAt);
  return {
    points: trendOf(history),
    ...(before
      ? {
          previous: {
            at: before.at,
            runId: before.runId,
            open: Object.values(before.openBySeverity).reduce((a, b) => a + b, 0),
            ...(before.bytes
              ? { unbilledBytes: before.bytes.unbilled, misbilledBytes: before.bytes.misbilled }
              : {}),
          },
        }
      : {}),
  };
}

export function trendOf(history: History | null): TrendPoint[] {
  return (history?.full ?? []).slice(-TREND_RUNS).map((e) => ({
    at: e.at,
    runId: e.runId,
    openBySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, e.openBySeverity[s] ?? 0])),
    ...(e.bytes ? { unbilledBytes: e.bytes.unbilled } : {}),
  }));
}
