// The contract's layout in a folder. Every file is written to a temporary name and renamed, so a
// crash never leaves half a file; the ledger is replaced only while a lock file is held and only
// if it is still the ledger this run read.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LedgerConflictError } from '../core/errors.js';
import { parseLedger } from '../core/ledger.js';
import type { ReportSink, StoredLedger } from './sink.js';
import { LEDGER_KEY } from './sink.js';

const STALE_LOCK_MS = 10 * 60_000;

export function contentVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class FolderSink implements ReportSink {
  constructor(private readonly root: string) {}

  location(key: string): string {
    return join(this.root, key);
  }

  async readLedger(): Promise<StoredLedger> {
    const text = await this.readIfThere(LEDGER_KEY);
    if (text === null) return { ledger: null, version: null };
    return { ledger: parseLedger(text, this.location(LEDGER_KEY)), version: contentVersion(text) };
  }

  async put(key: string, body: string): Promise<void> {
    await this.writeAtomically(this.location(key), body);
  }

  async putLedger(body: string, expectedVersion: string | null): Promise<string> {
    const lock = this.location(`${LEDGER_KEY}.lock`);
    await mkdir(dirname(lock), { recursive: true });
    const handle = await this.takeLock(lock);
    try {
      const current = await this.readIfThere(LEDGER_KEY);
      const currentVersion = current === null ? null : contentVersion(current);
      if (currentVersion !== expectedVersion) {
        throw new LedgerConflictError(`another run updated ${this.location(LEDGER_KEY)} while this one ran`);
      }
      await this.writeAtomically(this.location(LEDGER_KEY), body);
      return contentVersion(body);
    } finally {
      await handle.close();
      await unlink(lock).catch(() => {});
    }
  }

  private async takeLock(lock: string) {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await open(lock, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await stat(lock).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null; // released between our two looks: try again
        throw err;
      });
      if (held && Date.now() - held.mtimeMs < STALE_LOCK_MS)
        throw new LedgerConflictError(`another run holds ${lock}`);
      if (held) await unlink(lock).catch(() => {}); // left by a run that crashed
    }
    throw new LedgerConflictError(`another run holds ${lock}`);
  }

  get(key: string): Promise<string | null> {
    return this.readIfThere(key);
  }

  private async readIfThere(key: string): Promise<string | null> {
    try {
      return await readFile(this.location(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Protected so that tests can crash a write half-way. */
  protected async writeAtomically(path: string, body: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`; // unique even for writes in the same millisecond
    await writeFile(tmp, body, { mode: 0o640 });
    await this.replace(tmp, path);
  }

  protected async replace(tmp: string, path: string): Promise<void> {
    await rename(tmp, path);
  }
}
