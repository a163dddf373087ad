// `csdrift report`: the current view (the ledger's open findings now), or any stored run, rendered
// in any format without auditing.
import { currentReport } from '../core/current.js';
import { InvalidInputError } from '../core/errors.js';
import { emptyLedger } from '../core/ledger.js';
import { EXIT } from '../core/report.js';
import { RENDERERS, parseFormats } from '../reports/formats.js';
import { readLedger } from '../state/ledger-store.js';
import { openStorage } from '../state/open-storage.js';
import type { HistoryEntry } from '../core/history.js';
import { visible } from '../core/shell.js';
import { readHistory } from '../state/history-store.js';
import { readStoredReport, storedRuns } from '../state/stored-report.js';
import type { StateStorage } from '../state/storage.js';
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
    const runs = await listedRuns(storage);
    if (!runs.length) io.stderr(`no stored run under ${storage.location('runs/')}`);
    else await io.stdout(flags.format === 'json' ? `${JSON.stringify(runs, null, 2)}\n` : runTable(runs));
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

/** A stored run as `report --list` shows it; what the run history does not hold is null. */
export interface ListedRun {
  runId: string;
  at: string | null;
  trigger: string | null;
  status: string | null;
  findings: number | null;
  /** `full`, or what a scoped run covered. */
  scope: string | null;
}

/** Every stored run, newest first, told from the run history (read once, not a report per run). */
async function listedRuns(storage: StateStorage): Promise<ListedRun[]> {
  const ids = await storedRuns(storage);
  const { history } = await readHistory(storage);
  const known = new Map([...(history?.full ?? []), ...(history?.scoped ?? [])].map((e) => [e.runId, e]));
  return ids
    .map((runId): ListedRun => {
      const e = known.get(runId);
      return {
        runId,
        at: e?.at ?? null,
        trigger: e?.trigger ?? null,
        status: e?.status ?? null,
        findings: e?.findings ?? null,
        scope: e ? scopeText(e.scope) : null,
      };
    })
    .sort((a, b) => (b.at ?? b.runId).localeCompare(a.at ?? a.runId) || b.runId.localeCompare(a.runId));
}

function scopeText(scope: HistoryEntry['scope']): string {
  if (!scope) return 'full';
  const parts = [
    scope.stores.length ? `stores ${scope.stores.join(',')}` : '',
    scope.rules.length ? `rules ${scope.rules.join(',')}` : '',
    scope.buckets.length
      ? `${scope.buckets.length} bucket(s) ${scope.buckets.slice(0, 3).join(',')}${scope.buckets.length > 3 ? ',…' : ''}`
      : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'full';
}

/** The runs as an aligned table for a terminal; every name escaped as the rest of the CLI does. */
function runTable(runs: ListedRun[]): string {
  const rows = [
    ['TIME (UTC)', 'RUN', 'TRIGGER', 'STATUS', 'FINDINGS', 'SCOPE'],
    ...runs.map((r) => [
      r.at ? r.at.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-',
      r.runId,
      r.trigger ?? '-',
      r.status ?? '-',
      r.findings === null ? '-' : String(r.findings),
      r.scope ?? '(not in the run history)',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      visible(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')),
    )
    .join('\n')
    .concat('\n');
}
