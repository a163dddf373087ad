// `csdrift suppressions list|remove`: the suppressions written by clicks in Slack (Suppress 30 days,
// Not drift), kept in the ledger. Those of the config file are the file's to change.
import { withoutSuppression } from '../core/actions.js';
import { InvalidInputError } from '../core/errors.js';
import type { LedgerSuppression } from '../core/ledger.js';
import { EXIT } from '../core/report.js';
import { visible } from '../core/shell.js';
import { writeCurrentView } from '../publish.js';
import { changeLedger, readLedger } from '../state/ledger-store.js';
import { openStorage } from '../state/open-storage.js';
import type { Io } from './audit-command.js';

export interface SuppressionsFlags {
  out: string;
  json?: boolean;
}

export async function suppressionsCommand(
  verb: string,
  id: string | undefined,
  flags: SuppressionsFlags,
  io: Io,
): Promise<number> {
  const storage = openStorage(flags.out);
  const stored = await readLedger(storage);
  const all = stored.ledger?.suppressions ?? [];
  if (verb === 'list') {
    if (flags.json) await io.stdout(`${JSON.stringify(all, null, 2)}\n`);
    else if (!all.length)
      io.stderr(
        `no suppression written from Slack in ${storage.location('state/ledger.json')} (the config's are in its file)`,
      );
    else await io.stdout(table(all, new Date()));
    return EXIT.inSync;
  }
  if (verb !== 'remove') throw new InvalidInputError(`suppressions ${verb}: expected list or remove`);
  if (!id)
    throw new InvalidInputError('suppressions remove ID: give the id that csdrift suppressions list shows');
  if (!stored.ledger || !withoutSuppression(stored.ledger, id).removed.length)
    throw new InvalidInputError(
      `suppressions remove ${id}: no suppression with that id (at least 6 characters of it) in ${storage.location('state/ledger.json')}`,
    );
  let removed: LedgerSuppression[] = [];
  const written = await changeLedger(
    storage,
    { ledger: stored.ledger, version: stored.version },
    (current) => {
      const next = withoutSuppression(current, id);
      removed = next.removed;
      return next.ledger;
    },
  );
  await writeCurrentView(storage, ['json', 'html'], written);
  await io.stdout(
    removed
      .map((s) =>
        visible(
          `removed ${s.id}: ${s.rule} ${s.bucket ?? '-'} on ${s.store.name}; the next run reports it again if it still drifts\n`,
        ),
      )
      .join(''),
  );
  return EXIT.inSync;
}

function table(all: LedgerSuppression[], now: Date): string {
  const rows = all.map((s) => [
    s.id,
    s.rule,
    s.store.name,
    s.bucket ?? '-',
    s.owner,
    s.expires === null
      ? 'until removed'
      : Date.parse(s.expires) <= now.getTime()
        ? `expired ${s.expires.slice(0, 10)}`
        : s.expires.slice(0, 10),
    s.reason,
  ]);
  const head = ['ID', 'RULE', 'STORE', 'BUCKET', 'OWNER', 'EXPIRES', 'REASON'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return (
    [head, ...rows]
      .map((r) => visible(r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join('  ')))
      .join('\n') + '\n'
  );
}
