// Overlapping runs write the same state files (the ledger, the history) conditionally; the one that
// loses reads the file again and writes its change over the new version. One loop for all of them.
import { LedgerConflictError } from '../core/errors.js';

/** Runs that keep losing the race this often have met something else than overlap: they give up. */
export const MAX_MERGES = 20;

/** A short random wait, growing a little, so racing runs stop colliding in step. */
export function pause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 6));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `write(state)`; when another run wrote first (LedgerConflictError), `reread()` and write again,
 * at most MAX_MERGES times, after which the last conflict is thrown.
 */
export async function writeOverConflicts<S>(
  state: S,
  write: (state: S) => Promise<void>,
  reread: () => Promise<S>,
): Promise<void> {
  let current = state;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write(current);
    } catch (err) {
      if (!(err instanceof LedgerConflictError) || attempt >= MAX_MERGES) throw err;
      current = await reread();
      await pause(attempt);
    }
  }
}
