// One racing writer for test/integration/ledger-race.test.ts: adds `count` entries of its own to the
// ledger in a folder, one conditional write each, re-reading and trying again whenever it loses.
// Prints `wrote <key>` once each write has landed. Runs the built code, as the CLI does.
import process from 'node:process';
import { FolderStorage } from '../../dist/state/folder-storage.js';
import { LEDGER_KEY, readLedger } from '../../dist/state/ledger-store.js';

const [dir, id, count] = process.argv.slice(2);
const storage = new FolderStorage(dir);
for (let i = 0; i < Number(count); i++) {
  const key = `w${id}-${i}`;
  for (;;) {
    const { ledger, version } = await readLedger(storage);
    const next = ledger ?? { schemaVersion: 1, updatedAt: '', lastRunId: null, entries: {} };
    const at = new Date().toISOString();
    next.updatedAt = at;
    next.entries[key] = {
      rule: 'bucket-unmanaged-in-store',
      store: { uuid: 'store', name: 'store' },
      bucket: key,
      status: 'new',
      firstSeen: at,
      lastSeen: at,
      seenRuns: 1,
      lastRunId: key,
    };
    try {
      await storage.putIf(LEDGER_KEY, `${JSON.stringify(next, null, 2)}\n`, version);
      process.stdout.write(`wrote ${key}\n`);
      break;
    } catch (err) {
      if (err.name !== 'StateConflictError') throw err;
    }
  }
}
