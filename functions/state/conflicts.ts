// Overlapping runs write the same state (the ledger, the history, the marks of what was told, the
// current view) conditionally; the one that loses reads again and writes its change over what it
// finds. This is the one loop for all of them.
import { StateConflictError } from '../core/errors.js';

/** Runs that keep losing the race this often have met something else than overlap: they give up. */
export const MAX_MERGES = 20;

/** A short random wait, growing a little, so racing runs stop colliding in step. */
export function pause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 6));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `write(state)`; when another run wrote first (StateConflictError), `reread()` and write again, at
 * most MAX_MERGES times, after which the last conflict is thrown. A `reread` that cannot merge throws.
 */
export async function writeOverConflicts<S, R>(
  state: S,
  write: (state: S) => Promise<R>,
  reread: () => Promise<S>,
): Promise<R> {
  let current = state;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write(current);
    } catch (err) {
      if (!(err instanceof StateConflictError) || attempt >= MAX_MERGES) throw err;
      current = await reread();
      await pause(attempt);
    }
  }
}
