// `csdrift report`: the current view (the ledger's open findings now), or any stored run, rendered
// in any format without auditing.
import { currentReport } from '../core/current.js';
import { InvalidInputError } from '../core/errors.js';
import { emptyLedger } from '../core/ledger.js';
import { EXIT } from '../core/report.js';
import { RENDERERS, parseFormats } from '../reports/formats.js';
import { readLedger } from '../state/ledger-store.js';
import { openStorage } from '../state/open-storage.js';
import { readStoredReport, storedRuns } from '../state/stored-report.js';
import type { Io } from './audit-command.js';

export interface ReportFlags {
  out: string;
  run: string;
  format: string;
  list?: boolean;
}

export async function reportCommand(flags: ReportFlags, io: Io): Promise<number> {
  const storage = openStorage(flags.out);
  if (flags.list) {
    const runs = await storedRuns(storage);
    await io.stdout(runs.length ? `${runs.join('\n')}\n` : '');
    if (!runs.length) io.stderr(`no stored run under ${storage.location('runs/')}`);
    return EXIT.inSync;
  }
  const formats = parseFormats(flags.format);
  const [format] = formats;
  if (formats.length !== 1 || !format)
    throw new InvalidInputError(
      '--format: csdrift report prints one format; give one of json, html, csv, md',
    );
  // The current view is made from the ledger itself, so it is true even if current/ lags behind.
  const report =
    flags.run === 'current'
      ? currentReport((await readLedger(storage)).ledger ?? emptyLedger(), new Date())
      : await readStoredReport(storage, flags.run);
  await io.stdout(RENDERERS[format](report).body);
  return EXIT.inSync;
}
