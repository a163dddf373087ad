// scan.incremental's kept reads in state storage (state/bucket-reads.ts): a file of JSON lines per
// store and shard, written over the version read, the later read of a bucket winning.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../../functions/common/partitions.js';
import type { BucketRead } from '../../functions/core/model.js';
import { openStoreReads, recordReads } from '../../functions/state/bucket-reads.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';

const read = (name: string, verifiedAt: string, versioning: 'Enabled' | 'Off' = 'Off'): BucketRead => ({
  name,
  identity: `id-${name}@2026-12-01T00:00:00.000000Z`,
  verifiedAt,
  attributes: { versioning: { value: versioning }, objectLock: { value: false } },
});
const names = Array.from({ length: 40 }, (_, i) => `bucket-${i}`);
const T1 = '2026-12-01T01:00:00.000Z';
const T2 = '2026-12-02T01:00:00.000Z';

describe('kept bucket reads', () => {
  let dir: string;
  let storage: FolderStorage;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-reads-'));
    storage = new FolderStorage(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A whole run over `shards` shards recording `reads` of every listed name. */
  async function night(shards: number, reads: BucketRead[], listed = names) {
    const store = await openStoreReads(storage, 'store-1', shards);
    try {
      for (let p = 0; p < shards; p++) {
        await store.shard(p);
        await store.record(
          p,
          reads.filter((r) => partitionOf(r.name, shards) === p),
          new Set(listed.filter((n) => partitionOf(n, shards) === p)),
        );
      }
      await store.finish();
    } finally {
      store.close();
    }
  }

  async function kept(shards: number): Promise<Map<string, BucketRead>> {
    const store = await openStoreReads(storage, 'store-1', shards);
    const all = new Map<string, BucketRead>();
    for (let p = 0; p < shards; p++) for (const [k, v] of await store.shard(p)) all.set(k, v);
    store.close();
    return all;
  }

  it('keeps each shard in its own file and the later read of a bucket, dropping buckets no longer listed', async () => {
    await night(
      3,
      names.map((n) => read(n, T1)),
    );
    expect((await storage.list('state/reads/')).sort()).toEqual([
      'state/reads/store-1/3/0.jsonl',
      'state/reads/store-1/3/1.jsonl',
      'state/reads/store-1/3/2.jsonl',
    ]);
    // Night 2: bucket-0 read again; bucket-1 kept as it was; bucket-2 gone from the store.
    await night(
      3,
      [read('bucket-0', T2, 'Enabled')],
      names.filter((n) => n !== 'bucket-2'),
    );
    const after = await kept(3);
    expect(after.size).toBe(names.length - 1);
    expect(after.get('bucket-0')).toEqual(read('bucket-0', T2, 'Enabled'));
    expect(after.get('bucket-1')).toEqual(read('bucket-1', T1));
    expect(after.has('bucket-2')).toBe(false);
    // An older read never replaces a later one (a run that overlapped another, finishing last).
    await night(3, [read('bucket-0', T1)]);
    expect((await kept(3)).get('bucket-0')?.verifiedAt).toBe(T2);
  });

  it('carries the reads over to a new shard count, and removes the old files only once every shard is written', async () => {
    await night(
      3,
      names.map((n) => read(n, T1)),
    );
    const store = await openStoreReads(storage, 'store-1', 5);
    const carried = new Map<string, BucketRead>();
    for (let p = 0; p < 5; p++) {
      const shard = await store.shard(p);
      for (const [name, r] of shard) {
        expect(partitionOf(name, 5)).toBe(p);
        carried.set(name, r);
      }
    }
    expect(carried.size).toBe(names.length);
    // A run that stopped after two shards leaves the old files: the others still need them.
    for (const p of [0, 1]) await store.record(p, [], new Set(names.filter((n) => partitionOf(n, 5) === p)));
    await store.finish();
    store.close();
    expect((await storage.list('state/reads/store-1/3/')).length).toBe(3);
    expect((await kept(5)).size).toBe(names.length);
    await night(5, []);
    expect(await storage.list('state/reads/store-1/3/')).toEqual([]);
    expect((await kept(5)).size).toBe(names.length);
  });

  it('leaves out a torn or edited line: only that bucket is read again', async () => {
    await night(
      1,
      names.map((n) => read(n, T1)),
    );
    const file = join(dir, 'state/reads/store-1/1/0.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[0] = '{"name":"bucket-0","identity":';
    lines[1] = JSON.stringify({ ...JSON.parse(lines[1] as string), verifiedAt: 7 });
    await writeFile(file, lines.join('\n'));
    const after = await kept(1);
    expect(after.size).toBe(names.length - 2);
    // Written anew whole on the next record.
    await night(1, [read('bucket-0', T2)]);
    expect((await kept(1)).size).toBe(names.length - 1);
  });

  it('two runs recording the same shard at once: both reads land', async () => {
    await night(
      2,
      names.map((n) => read(n, T1)),
    );
    const [a, b] = await Promise.all([
      openStoreReads(storage, 'store-1', 2),
      openStoreReads(storage, 'store-1', 2),
    ]);
    const p = partitionOf('bucket-0', 2);
    const mine = names.filter((n) => partitionOf(n, 2) === p);
    await Promise.all([a.shard(p), b.shard(p)]);
    const other = mine.find((n) => n !== 'bucket-0') as string;
    await Promise.all([
      a.record(p, [read('bucket-0', T2, 'Enabled')], new Set(mine)),
      b.record(p, [read(other, T2, 'Enabled')], new Set(mine)),
    ]);
    a.close();
    b.close();
    const after = await kept(2);
    expect(after.get('bucket-0')?.verifiedAt).toBe(T2);
    expect(after.get(other)?.verifiedAt).toBe(T2);
    expect(after.size).toBe(names.length);
  });

  it("a targeted run's reads are laid on every shard count kept, and nothing is made where none is", async () => {
    await recordReads(storage, 'store-1', [read('bucket-3', T2)]);
    expect(await storage.list('state/reads/')).toEqual([]);
    await night(
      4,
      names.map((n) => read(n, T1)),
    );
    await recordReads(storage, 'store-1', [read('bucket-3', T2, 'Enabled'), read('bucket-4', T2)]);
    const after = await kept(4);
    expect(after.get('bucket-3')).toEqual(read('bucket-3', T2, 'Enabled'));
    expect(after.get('bucket-4')?.verifiedAt).toBe(T2);
    expect(after.get('bucket-5')?.verifiedAt).toBe(T1);
  });
});
