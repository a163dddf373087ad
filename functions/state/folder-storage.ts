// State storage in a folder. Every file is written to a temporary name, flushed to disk and renamed,
// so a crash never leaves half a file; a conditional write replaces its file only while its lock is
// held and only if the file still holds the version read (its content hash).
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import lockfile from 'proper-lockfile';
import { makeFolder, writeFileAtomically } from '../common/atomic-file.js';
import { StateConflictError, StateCorruptError } from '../core/errors.js';
import type { StateStorage, Versioned } from './storage.js';

/**
 * The lock is a directory (mkdir is atomic) whose mtime its holder refreshes; one not refreshed for
 * this long was left by a run that died. proper-lockfile takes a stale lock over atomically, so two
 * runs that find the same stale lock never both hold it.
 */
const STALE_LOCK_MS = 10_000;
const STALE_TEMP_MS = 60 * 60_000;
/** How long a writer waits for the lock: holders keep it only for one read, compare and rename. */
const LOCK_RETRIES = { retries: 14, minTimeout: 5, maxTimeout: 300, randomize: true };

export function contentVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class FolderStorage implements StateStorage {
  constructor(private readonly root: string) {}

  location(key: string): string {
    return join(this.root, key);
  }

  async read(key: string): Promise<Versioned | null> {
    const text = await this.readIfThere(key);
    return text === null ? null : { text, version: contentVersion(text) };
  }

  async put(key: string, body: string): Promise<void> {
    await this.writeAtomically(this.location(key), body);
  }

  async putIf(key: string, body: string, expected: string | null): Promise<string> {
    const path = this.location(key);
    // Already replaced by another run: no need to queue for the lock to learn it.
    await this.expectVersion(key, expected);
    const lockPath = this.location(key.replace(/\.jsonl?$/, '.lock'));
    await makeFolder(dirname(lockPath));
    let compromised: Error | null = null;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(path, {
        realpath: false,
        lockfilePath: lockPath,
        stale: STALE_LOCK_MS,
        retries: LOCK_RETRIES,
        onCompromised: (err) => void (compromised = err),
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED')
        throw new StateConflictError(`another run holds ${lockPath}`, { cause: err });
      throw err;
    }
    try {
      await this.expectVersion(key, expected);
      await this.writeAtomically(path, body, () => {
        // Lost the lock to a takeover (this process stalled past STALE_LOCK_MS): do not replace.
        if (compromised) throw new StateConflictError(`lost the lock on ${lockPath}`, { cause: compromised });
      });
      for (const dir of [dirname(path), this.location('latest'), this.location('current')])
        await this.sweepStaleTemps(dir);
      return contentVersion(body);
    } finally {
      await release().catch(() => {});
    }
  }

  async list(prefix: string, onSkipped?: (location: string, what: string) => void): Promise<string[]> {
    const entries = await readdir(this.location(prefix), { recursive: true, withFileTypes: true }).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      },
    );
    const keys: string[] = [];
    for (const e of entries) {
      if (e.name.endsWith('.tmp')) continue;
      const path = join(e.parentPath, e.name);
      if (e.isFile()) keys.push(relative(this.root, path).split(sep).join('/'));
      // Folders are walked; one named like a key (`x.json`) is not what this tool wrote there.
      else if (!e.isDirectory() || /\.json$/.test(e.name)) onSkipped?.(path, kindOf(e));
    }
    return keys;
  }

  async remove(key: string): Promise<void> {
    await rm(this.location(key), { force: true });
  }

  /** Temporary files a killed run left behind (older than an hour: no live run still writes them). */
  private async sweepStaleTemps(dir: string): Promise<void> {
    const cutoff = Date.now() - STALE_TEMP_MS;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.tmp'))) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtimeMs < cutoff) await unlink(path).catch(() => {});
    }
  }

  private async expectVersion(key: string, expected: string | null): Promise<void> {
    const current = await this.readIfThere(key);
    if ((current === null ? null : contentVersion(current)) !== expected)
      throw new StateConflictError(`another run updated ${this.location(key)} while this one ran`);
  }

  /**
   * Opened without blocking and checked before it is read: a FIFO put where a key belongs would
   * otherwise hang the read for ever, a folder fail with a bare EISDIR, a link to /dev/zero never end.
   */
  private async readIfThere(key: string): Promise<string | null> {
    const path = this.location(key);
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'ELOOP')
        throw new StateCorruptError(`${path} is not a regular file (a link)`, { cause: err });
      throw err;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StateCorruptError(`${path} is not a regular file (${kindOf(info)})`);
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  /**
   * Written whole to a unique temporary name, flushed (fsync) and only then renamed over the old
   * file, and the folder flushed after: after a crash or power cut the path holds the old file or
   * the new one, never a torn or empty one. Protected so that tests can crash a write half-way.
   */
  protected async writeAtomically(path: string, body: string, beforeRename?: () => void): Promise<void> {
    await writeFileAtomically(path, body, {
      ...(beforeRename ? { beforeRename } : {}),
      rename: (tmp, to) => this.replace(tmp, to),
    });
  }

  protected async replace(tmp: string, path: string): Promise<void> {
    await rename(tmp, path);
  }
}

/** What a directory entry or a file's stat is, for a line that says why it was not read. */
function kindOf(
  info: Pick<
    Stats,
    'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isDirectory' | 'isSocket' | 'isSymbolicLink'
  >,
): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isDirectory()) return 'a folder';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a link';
  return 'not a file';
}
