// A file replaced whole or not at all: written to a unique temporary name beside it, flushed to disk
// (fsync), renamed over the old one, and the folder flushed after. After a crash or a power cut the
// path holds the old file or the new one, never a torn or empty one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { CsdriftError, InvalidInputError, StateWriteError } from '../core/errors.js';

export interface AtomicWriteOptions {
  /** Last check before the rename; a throw leaves the old file. */
  beforeRename?: () => void;
  /** The rename itself (tests crash it half-way). */
  rename?: (tmp: string, path: string) => Promise<void>;
}

export async function writeFileAtomically(
  path: string,
  body: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await makeFolder(dirname(path));
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`; // unique even for writes in the same millisecond
  try {
    const file = await open(tmp, 'wx', 0o640);
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    options.beforeRename?.();
    await (options.rename ?? rename)(tmp, path);
  } catch (err) {
    // A full disk or a refused write leaves no partial file behind, and says which file and why.
    await unlink(tmp).catch(() => {});
    throw writeFailure(path, err);
  }
  await syncFolder(dirname(path));
}

/** The reasons a person can act on; any other is said by its code. */
const WRITE_FAULTS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/** An error of the file system becomes one that names the path and the reason; others pass as they are. */
function writeFailure(path: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (!code || err instanceof CsdriftError) return err;
  return new StateWriteError(`cannot write ${path}: ${WRITE_FAULTS[code] ?? code}`, { cause: err });
}

/**
 * mkdir -p, one level at a time. Node's recursive mkdir loops for ever where the kernel answers
 * ENOENT for a folder whose parent exists (inside /proc or /sys): here that is one clear error.
 */
export async function makeFolder(path: string): Promise<void> {
  const absolute = resolve(path);
  const parts = absolute.split(sep).filter(Boolean);
  let at = absolute.startsWith(sep) ? sep : '';
  for (const part of parts) {
    at = join(at, part);
    try {
      await mkdir(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(at)).isDirectory()) continue;
      throw new InvalidInputError(`--out: cannot make the folder ${at} (${code ?? 'error'})`, {
        cause: err,
      });
    }
  }
}

/** Makes a rename in this folder durable. */
async function syncFolder(path: string): Promise<void> {
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL, EISDIR); the rename itself stands.
  } finally {
    await folder.close();
  }
}
