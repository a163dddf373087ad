// The partitions a store's rows, listing and names are split into (common/partitions.ts): every item
// back once, in its name's partition, in the order added; spilled to files past one partition or
// past what one may hold; moved to more partitions a few lines at a time; no file left behind.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Partitions, partitionOf, partitionsFor } from '../../functions/common/partitions.js';
import type { StoreBucket } from '../../functions/core/model.js';
import { scanStore, openStoreScan } from '../../functions/stores/scan-store.js';
import { NOW, aStore } from '../support/builders.js';

const spilled = () => readdirSync(tmpdir()).filter((f) => f.startsWith('csdrift-unitpart-'));
const items = (n: number, name = (i: number) => `b-${i}`) =>
  Array.from({ length: n }, (_, i) => ({ name: name(i), i }));

describe('Partitions', () => {
  it('holds one partition of few items in memory, and spills it past 10,000', () => {
    const before = spilled();
    const one = new Partitions<{ name: string; i: number }>(1, 'unitpart', (x) => x.name);
    for (const x of items(100)) one.add(x);
    expect(spilled()).toEqual(before);
    for (const x of items(10_000, (i) => `c-${i}`)) one.add(x);
    expect(spilled().length).toBe(before.length + 1);
    const back = one.read(0);
    expect(back).toHaveLength(10_100);
    expect(back.slice(0, 2).map((x) => x.name)).toEqual(['b-0', 'b-1']);
    one.close();
    expect(spilled()).toEqual(before);
  });

  it('files each item in its name partition, and moves them to more partitions whole', () => {
    const before = spilled();
    const three = new Partitions<{ name: string; i: number }>(3, 'unitpart', (x) => x.name);
    // Names of many bytes: the files pass 1 MiB, so lines are read back across chunk boundaries.
    const all = items(3_000, (i) => `bücket-ñame-${'é'.repeat(200)}-${i}`);
    for (const x of all) three.add(x);
    expect(three.size).toBe(3_000);
    for (let p = 0; p < 3; p++) for (const x of three.read(p)) expect(partitionOf(x.name, 3)).toBe(p);
    const seven = three.moveTo(7);
    const back = Array.from({ length: 7 }, (_, p) => seven.read(p)).flat();
    expect(back.map((x) => x.i).sort((a, b) => a - b)).toEqual(all.map((x) => x.i));
    for (let p = 0; p < 7; p++) for (const x of seven.read(p)) expect(partitionOf(x.name, 7)).toBe(p);
    seven.close();
    expect(spilled()).toEqual(before);
  });

  it('keeps the names of `names` partitions in files of their own, line breaks and all, moved with the items', () => {
    const before = spilled();
    const odd = (i: number) => (i % 97 ? `b-${i}` : `team/archive\n${i}`); // a row's free-text name
    const three = new Partitions<{ name: string; i: number }>(3, 'unitpart', (x) => x.name, undefined, true);
    const all = items(3_000, odd);
    for (const x of all) three.add(x);
    const folder = join(tmpdir(), spilled().find((f) => !before.includes(f)) as string);
    for (let p = 0; p < 3; p++) {
      expect(three.readNames(p)).toEqual(three.read(p).map((x) => x.name));
      expect(existsSync(join(folder, `${p}.names.jsonl`))).toBe(true);
    }
    const seven = three.moveTo(7);
    const names = Array.from({ length: 7 }, (_, p) => seven.readNames(p)).flat();
    expect(names.sort()).toEqual(all.map((x) => x.name).sort());
    for (let p = 0; p < 7; p++) expect(seven.readNames(p)).toEqual(seven.read(p).map((x) => x.name));
    seven.close();
    // Held in memory (one partition), the names come from the items.
    const one = new Partitions<{ name: string; i: number }>(1, 'unitpart', (x) => x.name, undefined, true);
    for (const x of items(5)) one.add(x);
    expect(one.readNames(0)).toEqual(['b-0', 'b-1', 'b-2', 'b-3', 'b-4']);
    one.close();
    expect(spilled()).toEqual(before);
  });

  it('bounds the lines waiting to be written for all partitions together, not 64 KiB each', () => {
    // 200 partitions of short names (a million buckets): no one partition reaches 64 KiB, so only the
    // bound over all of them writes anything before the partitions are read.
    const before = spilled();
    const many = new Partitions<string>(200, 'unitpart', (x) => x);
    const folder = () => spilled().find((f) => !before.includes(f)) as string;
    for (let i = 0; i < 60_000; i++) many.add(`bench-${String(i).padStart(7, '0')}`);
    const written = readdirSync(join(tmpdir(), folder()));
    expect(written.length).toBe(200);
    const back = Array.from({ length: 200 }, (_, p) => many.read(p)).flat();
    expect(back).toHaveLength(60_000);
    expect(new Set(back).size).toBe(60_000);
    many.close();
  });

  it('sizes partitions from the items they must hold', () => {
    expect(partitionsFor(0, 5_000)).toBe(1);
    expect(partitionsFor(5_000, 5_000)).toBe(1);
    expect(partitionsFor(1_000_005, 5_000)).toBe(201);
  });
});

describe('a listing that outgrows its partitions', () => {
  const OPTIONS = { concurrency: 4, requestTimeoutMs: 1000, maxAttempts: 1, retryBaseDelayMs: 1 };
  const adapter = (buckets: StoreBucket[]) => ({
    capabilities: [] as [],
    notApplicable: {},
    connect: () => ({
      listBuckets: async (onBucket: (b: StoreBucket) => void) => buckets.forEach(onBucket),
      headBucket: async () => ({ result: 'absent' as const }),
      readAttributes: async () => ({ attributes: {} }),
      requestCount: () => 1,
      close: () => {},
    }),
  });

  it('is split into partitions of the size asked, each bucket in its name partition', async () => {
    const buckets = items(25).map(({ name }) => ({ name }));
    const asked: [number, number][] = [];
    const session = await openStoreScan({
      store: aStore(),
      expected: (p, count) => (asked.push([p, count]), []),
      partitions: 1,
      partitionSize: 5,
      options: OPTIONS,
      adapter: adapter(buckets),
      now: () => NOW,
    });
    try {
      expect(session.partitions).toBe(5);
      expect(asked.map(([, count]) => count)).toEqual([5, 5, 5, 5, 5]);
      const back = [];
      for (let p = 0; p < 5; p++) {
        const scan = await session.partition(p, []);
        for (const b of scan.buckets) expect(partitionOf(b.name, 5)).toBe(p);
        back.push(...scan.buckets.map((b) => b.name));
      }
      expect(back.sort()).toEqual(buckets.map((b) => b.name).sort());
      expect(session.summary().status).toBe('verified');
    } finally {
      session.close();
    }
    // A store judged whole (scanStore) keeps its one partition.
    expect(
      (
        await scanStore({
          store: aStore(),
          expected: [],
          options: OPTIONS,
          adapter: adapter(buckets),
          now: () => NOW,
        })
      ).buckets,
    ).toHaveLength(25);
    expect(existsSync(tmpdir())).toBe(true);
  });

  it('is not split for a few buckets more than its partitions were sized for, only past twice', async () => {
    const partitionsOf = async (listed: number) => {
      const session = await openStoreScan({
        store: aStore(),
        expected: () => [],
        partitions: 2,
        partitionSize: 5,
        options: OPTIONS,
        adapter: adapter(items(listed).map(({ name }) => ({ name }))),
        now: () => NOW,
      });
      session.close();
      return session.partitions;
    };
    expect(await partitionsOf(12)).toBe(2); // two strays beyond the 10 the rows were sized for
    expect(await partitionsOf(20)).toBe(2);
    expect(await partitionsOf(21)).toBe(5);
  });
});
