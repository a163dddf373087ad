// Writes one run into state storage: the run's files first, then the ledger, then the views. A crash
// at any point leaves the last good ledger. The views never lie about what the ledger holds:
// - latest/ is the last full run whose ledger was written (scoped and event runs never replace it);
// - current/ is the ledger's open findings now, rewritten after every run that wrote the ledger.
// A dry run and a run that lost the ledger race keep their own files under runs/ and touch no view.
import { currentReport } from './core/current.js';
import { StateConflictError } from './core/errors.js';
import { appendToHistory, isFullRun, reportTrend } from './core/history.js';
import type { Ledger } from './core/ledger.js';
import type { Pricing, Report } from './core/report.js';
import type { ReportFormat } from './reports/formats.js';
import { RENDERERS } from './reports/formats.js';
import { writeOverConflicts } from './state/conflicts.js';
import { readHistory, recordHistory } from './state/history-store.js';
import { LEDGER_KEY, readLedger, writeLedger } from './state/ledger-store.js';
import type { StateStorage } from './state/storage.js';

export function runFolder(report: Report): string {
  const [y, m, d] = report.startedAt.slice(0, 10).split('-') as [string, string, string];
  return `runs/${y}/${m}/${d}/${report.runId}`;
}

/** The run's report for people: the HTML one when it was written. */
export function reportUri(storage: StateStorage, report: Report, formats: ReportFormat[]): string {
  const ext = formats.includes('html') ? 'html' : (formats[0] ?? 'json');
  return storage.location(`${runFolder(report)}/report.${ext}`);
}

export interface PublishRequest {
  storage: StateStorage;
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
  const { storage, formats } = request;
  const uri = reportUri(storage, request.report, formats);
  // A full run's report carries the trend: the history as it will be with this run in it.
  const stored = request.writeLedger ? await readHistory(storage) : null;
  const withTrend = (r: Report): Report =>
    stored && !stored.problem && isFullRun(r)
      ? { ...r, trend: reportTrend(appendToHistory(stored.history, r), r) }
      : r;
  // One format rendered at a time, written and let go: the report of ten thousand findings is tens
  // of megabytes in each format, and all of them held at once would not fit the audit's heap.
  const writeFiles = async (report: Report, folder: string) => {
    for (const format of formats) {
      const { body, contentType } = RENDERERS[format](report);
      await storage.put(`${folder}/report.${format}`, body, contentType);
    }
  };
  const writeRunFiles = (report: Report) => writeFiles(report, runFolder(report));
  const first = {
    report: withTrend(request.report),
    ledger: request.ledger,
    expected: request.ledgerVersion,
  };
  if (!request.writeLedger) {
    await writeRunFiles(first.report);
    return { reportUri: uri, ledgerVersion: null, report: first.report, ledger: first.ledger, merges: 0 };
  }
  let merges = 0;
  const attemptWrite = async (attempt: typeof first) => {
    await writeRunFiles(attempt.report);
    const version = await writeLedger(storage, attempt.ledger, attempt.expected);
    return { ...attempt, version };
  };
  const { rebase } = request;
  let written;
  try {
    written = rebase
      ? await writeOverConflicts(first, attemptWrite, async () => {
          // Another run wrote first: take its ledger, lay this run's judgement on it, and try again.
          merges += 1;
          const fresh = await readLedger(storage);
          const rebased = rebase(fresh.ledger);
          return { report: withTrend(rebased.report), ledger: rebased.ledger, expected: fresh.version };
        })
      : await attemptWrite(first);
  } catch (err) {
    if (!(err instanceof StateConflictError)) throw err;
    throw new StateConflictError(
      `${err.message}; this run's reports are at ${uri}, its ledger update was not written`,
      { cause: err },
    );
  }
  const { report, ledger, version } = written;
  const historyProblem = stored ? await recordHistory(storage, report, stored) : undefined;
  // Rendered again rather than kept: see writeFiles.
  if (isFullRun(report)) await writeFiles(report, 'latest');
  await writeCurrentView(storage, formats, { ledger, version }, request.pricing);
  return {
    reportUri: uri,
    ledgerVersion: version,
    report,
    ledger,
    merges,
    ...(historyProblem ? { historyProblem } : {}),
  };
}

/**
 * current/report.<ext> from the ledger as written. Runs overlap: after writing, the ledger is read
 * again, and if another run has changed it since, the view is made again from that one (the same
 * conflict loop as every state write). So the last writer always leaves a view of the ledger as it
 * stands, never of an older one.
 */
export async function writeCurrentView(
  storage: StateStorage,
  formats: ReportFormat[],
  written: { ledger: Ledger; version: string | null },
  pricing?: Pricing,
): Promise<void> {
  await writeOverConflicts(
    written,
    async ({ ledger, version }) => {
      const view = currentReport(ledger, new Date(), pricing);
      for (const format of formats) {
        const { body, contentType } = RENDERERS[format](view);
        await storage.put(`current/report.${format}`, body, contentType);
      }
      if ((await storage.read(LEDGER_KEY))?.version !== (version ?? undefined))
        throw new StateConflictError('the ledger changed while the current view was written');
    },
    async () => {
      const fresh = await readLedger(storage);
      return { ledger: fresh.ledger ?? written.ledger, version: fresh.version };
    },
  );
}
