// The ledger in state storage: read and checked (a corrupt ledger stops the run before anything is
// written and is never overwritten), and changed only over the version read.
import type { Ledger } from '../core/ledger.js';
import { parseLedger } from '../core/ledger.js';
import { StateConflictError } from '../core/errors.js';
import { writeOverConflicts } from './conflicts.js';
import type { StateStorage } from './storage.js';

export const LEDGER_KEY = 'state/ledger.json';

export interface StoredLedger {
  ledger: Ledger | null;
  /** What the ledger was when read (an ETag or a content hash); null when there was none. */
  version: string | null;
}

export async function readLedger(storage: StateStorage): Promise<StoredLedger> {
  const got = await storage.read(LEDGER_KEY);
  return got
    ? { ledger: parseLedger(got.text, storage.location(LEDGER_KEY)), version: got.version }
    : { ledger: null, version: null };
}

/** Writes the ledger only if it is still the version read; returns the new version, or StateConflictError. */
export function writeLedger(storage: StateStorage, ledger: Ledger, expected: string | null): Promise<string> {
  return storage.putIf(LEDGER_KEY, `${JSON.stringify(ledger, null, 2)}\n`, expected);
}

/**
 * One change laid on the ledger as it stands (the marks of what was told, a remediation's record):
 * written over the version read, and laid again on a fresh read when another run wrote in between.
 */
export function changeLedger(
  storage: StateStorage,
  known: { ledger: Ledger; version: string | null },
  change: (ledger: Ledger) => Ledger,
): Promise<{ ledger: Ledger; version: string }> {
  return writeOverConflicts(
    known,
    async (current) => {
      const next = change(current.ledger);
      return { ledger: next, version: await writeLedger(storage, next, current.version) };
    },
    async () => {
      const fresh = await readLedger(storage);
      if (!fresh.ledger || fresh.version === null)
        throw new StateConflictError(`${storage.location(LEDGER_KEY)} is gone: this change is not written`);
      return { ledger: fresh.ledger, version: fresh.version };
    },
  );
}
