// Writes one run: the run's files first, then the ledger, then the views. A crash at any point leaves
// the last good ledger. The views never lie about what the ledger holds:
// - latest/ is the last full run whose ledger was written (scoped and event runs never replace it);
// - current/ is the ledger's open findings now, rewritten after every run that wrote the ledger.
// A dry run and a run that lost the ledger race keep their own files under runs/ and touch no view.
import { LedgerConflictError } from '../core/errors.js';
import { currentReport } from '../core/current.js';
import type { Ledger } from '../core/ledger.js';
import type { Pricing, Report } from '../core/report.js';
import type { ReportFormat } from './formats.js';
import { RENDERERS } from './formats.js';
import type { ReportSink } from './sink.js';
import { appendToHistory, isFullRun, reportTrend } from '../core/history.js';
import { readHistory, recordHistory } from './history-store.js';
import { MAX_MERGES, pause } from './merge-retry.js';

export function runFolder(report: Report): string {
  const [y, m, d] = report.startedAt.slice(0, 10).split('-') as [string, string, string];
  return `runs/${y}/${m}/${d}/${report.runId}`;
}

/** The run's report for people: the HTML one when it was written. */
export function reportUri(sink: ReportSink, report: Report, formats: ReportFormat[]): string {
  const ext = formats.includes('html') ? 'html' : (formats[0] ?? 'json');
  return sink.location(`${runFolder(report)}/report.${ext}`);
}

export interface PublishRequest {
  sink: ReportSink;
  report: Report;
  ledger: Ledger;
  formats: ReportFormat[];
  ledgerVersion: string | null;
  /** A dry run writes reports but leaves the ledger as it was. */
  writeLedger: boolean;
  /**
   * This run's judgement laid on the ledger as another run left it. Given, a run that loses the
   * conditional write reads the ledger again, merges, rewrites its report and tries again.
   */
  rebase?: (previous: Ledger | null) => { report: Report; ledger: Ledger };
  /** For the current view's money at stake. */
  pricing?: Pricing;
}

export interface Published {
  /** The first format's file of this run, for people and messages. */
  reportUri: string;
  /** The ledger's version after this run wrote it (null for a dry run). */
  ledgerVersion: string | null;
  /** The report and ledger as written: after a merge, not those the run started with. */
  report: Report;
  ledger: Ledger;
  /** How many times the run lost the race for the ledger and merged again. */
  merges: number;
  /** Why the run history was not updated, when it was not. */
  historyProblem?: string;
}

export async function publishRun(request: PublishRequest): Promise<Published> {
  const { sink, formats } = request;
  let { ledger, ledgerVersion: expected } = request;
  const uri = reportUri(sink, request.report, formats);
  // A full run's report carries the trend: the history as it will be with this run in it.
  const stored = request.writeLedger ? await readHistory(sink) : null;
  const withTrend = (r: Report): Report =>
    stored && !stored.problem && isFullRun(r)
      ? { ...r, trend: reportTrend(appendToHistory(stored.history, r), r) }
      : r;
  let report = withTrend(request.report);
  for (let merges = 0; ; merges++) {
    const files = formats.map((format) => ({ ext: format, ...RENDERERS[format](report) }));
    const run = runFolder(report);
    for (const f of files) await sink.put(`${run}/report.${f.ext}`, f.body, f.contentType);
    if (!request.writeLedger) return { reportUri: uri, ledgerVersion: null, report, ledger, merges };
    let ledgerVersion: string;
    try {
      ledgerVersion = await sink.putLedger(`${JSON.stringify(ledger, null, 2)}\n`, expected);
    } catch (err) {
      if (!(err instanceof LedgerConflictError)) throw err;
      if (!request.rebase || merges >= MAX_MERGES) {
        throw new LedgerConflictError(
          `${err.message}; this run's reports are at ${uri}, its ledger update was not written`,
        );
      }
      // Another run wrote first: take its ledger, lay this run's judgement on it, and try again.
      const fresh = await sink.readLedger();
      const rebased = request.rebase(fresh.ledger);
      report = withTrend(rebased.report);
      ledger = rebased.ledger;
      expected = fresh.version;
      await pause(merges);
      continue;
    }
    const historyProblem = stored ? await recordHistory(sink, report, stored) : undefined;
    if (isFullRun(report))
      for (const f of files) await sink.put(`latest/report.${f.ext}`, f.body, f.contentType);
    await writeCurrentView(sink, formats, { ledger, version: ledgerVersion }, request.pricing);
    return {
      reportUri: uri,
      ledgerVersion,
      report,
      ledger,
      merges,
      ...(historyProblem ? { historyProblem } : {}),
    };
  }
}

/**
 * current/report.<ext> from the ledger as written. Runs overlap: after writing, the ledger is read
 * again, and if another run has changed it since, the view is made again from that one. So the last
 * writer always leaves a view of the ledger as it stands, never of an older one.
 */
export async function writeCurrentView(
  sink: ReportSink,
  formats: ReportFormat[],
  written: { ledger: Ledger; version: string | null },
  pricing?: Pricing,
): Promise<void> {
  let { ledger, version } = written;
  for (let attempt = 0; attempt <= MAX_MERGES; attempt++) {
    const view = currentReport(ledger, new Date(), pricing);
    for (const format of formats) {
      const { body, contentType } = RENDERERS[format](view);
      await sink.put(`current/report.${format}`, body, contentType);
    }
    const fresh = await sink.readLedger();
    if (fresh.version === version || !fresh.ledger) return;
    ({ ledger, version } = { ledger: fresh.ledger, version: fresh.version });
    await pause(attempt);
  }
}
