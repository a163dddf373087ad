import { mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyLedger } from '../../functions/core/ledger.js';
import { FolderSink } from '../../functions/reports/folder-sink.js';

describe('FolderSink.putLedger', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-sink-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const body = JSON.stringify(emptyLedger());

  it('lets exactly one of many simultaneous writers win, the others losing with a conflict', async () => {
    const sink = new FolderSink(dir);
    for (let round = 0; round < 25; round++) {
      const { version } = await sink.readLedger();
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          sink.putLedger(body.replace('"entries"', `"r${round}w${i}":1,"entries"`), version),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((r) => r.status === 'rejected')) {
        expect((r as PromiseRejectedResult).reason.name).toBe('LedgerConflictError');
      }
    }
  });

  it('takes over a lock left by a run that crashed long ago, but not a fresh one', async () => {
    const sink = new FolderSink(dir);
    await sink.putLedger(body, null);
    const lock = join(dir, 'state', 'ledger.lock');
    await mkdir(lock);
    const { version } = await sink.readLedger();
    await expect(sink.putLedger(body, version)).rejects.toThrow(/another run holds/);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(lock, anHourAgo, anHourAgo);
    await expect(sink.putLedger(body, version)).resolves.toMatch(/^[0-9a-f]{64}$/);
  });
});
