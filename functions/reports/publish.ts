// Writes one run: the run's files first, then the ledger, then latest/. A crash at any point leaves
// the last good ledger, and latest/ always shows a run whose ledger was written: a dry run and a run
// that lost the ledger race keep their own files under runs/ and leave latest/ alone.
import { LedgerConflictError } from '../core/errors.js';
import type { Ledger } from '../core/ledger.js';
import type { Report } from '../core/report.js';
import type { ReportFormat } from './formats.js';
import { RENDERERS } from './formats.js';
import type { ReportSink } from './sink.js';

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
}

export interface Published {
  /** The first format's file of this run, for people and messages. */
  reportUri: string;
  /** The ledger's version after this run wrote it (null for a dry run). */
  ledgerVersion: string | null;
}

export async function publishRun(request: PublishRequest): Promise<Published> {
  const { sink, report, formats } = request;
  const files = formats.map((format) => ({ ext: format, ...RENDERERS[format](report) }));
  const run = runFolder(report);
  for (const f of files) await sink.put(`${run}/report.${f.ext}`, f.body, f.contentType);
  const uri = reportUri(sink, report, formats);
  let ledgerVersion: string | null = null;
  if (request.writeLedger) {
    try {
      ledgerVersion = await sink.putLedger(
        `${JSON.stringify(request.ledger, null, 2)}\n`,
        request.ledgerVersion,
      );
    } catch (err) {
      if (err instanceof LedgerConflictError) {
        throw new LedgerConflictError(
          `${err.message}; this run's reports are at ${uri}, its ledger update was not written`,
        );
      }
      throw err;
    }
    for (const f of files) await sink.put(`latest/report.${f.ext}`, f.body, f.contentType);
  }
  return { reportUri: uri, ledgerVersion };
}
