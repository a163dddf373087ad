import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyLedger } from '../../functions/core/ledger.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { LEDGER_KEY, readLedger } from '../../functions/state/ledger-store.js';

describe('FolderStorage.putIf (the ledger)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-storage-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const body = JSON.stringify(emptyLedger());

  it('lets exactly one of many simultaneous writers win, the others losing with a conflict', async () => {
    const storage = new FolderStorage(dir);
    for (let round = 0; round < 25; round++) {
      const { version } = await readLedger(storage);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          storage.putIf(LEDGER_KEY, body.replace('"entries"', `"r${round}w${i}":1,"entries"`), version),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason.name).toBe('StateConflictError');
      }
    }
  });

  it('takes over a lock left by a run that crashed long ago, but not a fresh one', async () => {
    const storage = new FolderStorage(dir);
    await storage.putIf(LEDGER_KEY, body, null);
    const lock = join(dir, 'state', 'ledger.lock');
    await mkdir(lock);
    const { version } = await readLedger(storage);
    await expect(storage.putIf(LEDGER_KEY, body, version)).rejects.toThrow(/another run holds/);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, anHourAgo, anHourAgo);
    await expect(storage.putIf(LEDGER_KEY, body, version)).resolves.toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads regular files only: a FIFO, a folder or a link where a key belongs is refused naming its path, never waited on', async () => {
    const storage = new FolderStorage(dir);
    await mkdir(join(dir, 'state'), { recursive: true });
    const ledger = join(dir, 'state', 'ledger.json');
    execFileSync('mkfifo', [ledger]); // a plain read of a FIFO waits for a writer for ever
    await expect(storage.read(LEDGER_KEY)).rejects.toThrow(`${ledger} is not a regular file (a FIFO)`);
    await rm(ledger);
    await mkdir(ledger);
    await expect(storage.read(LEDGER_KEY)).rejects.toMatchObject({
      name: 'StateCorruptError',
      message: `${ledger} is not a regular file (a folder)`,
    });
    await rm(ledger, { recursive: true });
    await symlink('/dev/zero', ledger); // a read of it would never end
    await expect(storage.read(LEDGER_KEY)).rejects.toThrow(`${ledger} is not a regular file (a link)`);
  });

  it('lists what it could have written, and tells each other entry with its path', async () => {
    const storage = new FolderStorage(dir);
    await storage.put('spool/1.json', '[]');
    await mkdir(join(dir, 'spool', '2.json'));
    execFileSync('mkfifo', [join(dir, 'spool', '3.json')]);
    await writeFile(join(dir, 'spool', '4.json.tmp'), 'half');
    const skipped: string[] = [];
    const keys = await storage.list('spool/', (where, what) => skipped.push(`${where}: ${what}`));
    expect(keys).toEqual(['spool/1.json']);
    expect(skipped.sort()).toEqual([
      `${join(dir, 'spool', '2.json')}: a folder`,
      `${join(dir, 'spool', '3.json')}: a FIFO`,
    ]);
  });

  it('a write that fails says which file and why, and leaves no temporary file', async () => {
    const storage = new FolderStorage(dir);
    await mkdir(join(dir, 'state', 'ledger.json'), { recursive: true }); // a folder where the file goes
    await expect(storage.put(LEDGER_KEY, body)).rejects.toMatchObject({
      name: 'StateWriteError',
      code: 'state-write',
      message: `cannot write ${join(dir, 'state', 'ledger.json')}: EISDIR`,
    });
    expect((await readdir(join(dir, 'state'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
