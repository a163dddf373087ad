// The run history in state storage, beside the ledger and written as safely: conditionally over the
// version read, read again and appended again when another run wrote in between. A history that
// cannot be read is left as it is and said, never replaced: it does not stop the audit.
import type { History } from '../core/history.js';
import { HISTORY_KEY, appendToHistory, parseHistory } from '../core/history.js';
import { StateConflictError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { writeOverConflicts } from './conflicts.js';
import type { StateStorage } from './storage.js';

export interface StoredHistory {
  history: History | null;
  version: string | null;
  /** Why the history could not be read: then it is not written either. */
  problem?: string;
}

export async function readHistory(storage: StateStorage): Promise<StoredHistory> {
  const got = await storage.read(HISTORY_KEY);
  if (got === null) return { history: null, version: null };
  const { text, version } = got;
  try {
    return { history: parseHistory(text, storage.location(HISTORY_KEY)), version };
  } catch (err) {
    return { history: null, version, problem: (err as Error).message };
  }
}

/** Appends the run; a problem is returned (and nothing written) rather than thrown. */
export async function recordHistory(
  storage: StateStorage,
  report: Report,
  stored: StoredHistory,
): Promise<string | undefined> {
  let problem = stored.problem;
  try {
    await writeOverConflicts(
      stored,
      async (current) => {
        problem = current.problem;
        if (problem) return;
        const next = appendToHistory(current.history, report);
        await storage.putIf(HISTORY_KEY, `${JSON.stringify(next)}\n`, current.version);
      },
      () => readHistory(storage),
    );
  } catch (err) {
    if (!(err instanceof StateConflictError)) throw err;
    return `${storage.location(HISTORY_KEY)}: ${err.message}; this run is not in it`;
  }
  return problem;
}
