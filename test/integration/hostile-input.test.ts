// Hostile stores and rows (issue: one store or DB row can never end the run, blind it, leak a
// secret, or turn a report into an attack). Each test puts one hostile store beside a healthy Ceph
// store with real drift: the healthy store's drift must always be reported, never exit 3.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SeedStore } from '../../functions/demo/cloudstack-seed.js';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { HostileStore, bucketXml, json, listing, repeated, streamed } from '../support/hostile-store.js';
import { cephCloudPerTest } from '../support/per-test.js';

const RSS_PROBE = new URL('../../bench/rss-probe.mjs', import.meta.url).pathname;
const EVIL_SECRET = 'evil-store-secret-key-0123456789';

describe('hostile stores and rows', () => {
  const ctx = cephCloudPerTest('4.21');
  let hostile: HostileStore;
  let gone: string;
  let healthy: SeedStore;

  beforeEach(async () => {
    hostile = await new HostileStore().start();
    healthy = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    gone = bucketName('gone');
    await ctx.cloud.seed.bucket({ name: gone, store: healthy, account: alice }); // the seed case: not in the store
  });
  afterEach(() => hostile.stop());

  async function evilStore(url = hostile.url, name = 'evil', provider = 'Hostile S3'): Promise<SeedStore> {
    return ctx.cloud.seed.store({ name, provider, url, accessKey: 'EVILKEY', secretKey: EVIL_SECRET });
  }

  async function run(extra: string[] = [], config?: object, env: Record<string, string> = {}) {
    const args = ['audit', '--json', '--db', dbUrlText(ctx.cloud.database.db), '--out', ctx.dir, ...extra];
    if (config) {
      const file = join(ctx.dir, 'config.json');
      await writeFile(file, JSON.stringify(config));
      args.push('--config', file);
    }
    const result = await csdrift(args, env);
    const report = result.stdout ? (JSON.parse(result.stdout) as Report) : null;
    return { ...result, report };
  }

  function expectHealthyDriftReported(result: Awaited<ReturnType<typeof run>>) {
    expect([1, 2]).toContain(result.code);
    const missing = result.report?.findings.filter((f) => f.rule === 'bucket-missing-in-store') ?? [];
    expect(missing.map((f) => `${f.store.name} ${f.bucket}`)).toEqual([`ceph-1 ${gone}`]);
    expect(result.stdout + result.stderr).not.toContain(EVIL_SECRET);
  }

  const evilCoverage = (report: Report | null) => report?.coverage.find((c) => c.store.name === 'evil');

  it('a listed name of 20 MiB is reported as no bucket name and never reaches a query', async () => {
    await evilStore();
    hostile.answer = listing([bucketXml('a'.repeat(20 * 1024 * 1024)), bucketXml('rogue-bucket')]);

    const result = await run();

    expectHealthyDriftReported(result);
    const evil = evilCoverage(result.report);
    expect(evil?.status).toBe('verified');
    expect(evil?.evidence.unusableBucketNames).toMatchObject({ count: 1 });
    expect(result.report?.findings.filter((f) => f.store.name === 'evil').map((f) => f.bucket)).toEqual([
      'rogue-bucket',
    ]);
    expect(result.stdout.length).toBeLessThan(1024 * 1024); // the name is never echoed whole
  });

  it.each([
    ['empty', '', /is empty/],
    ['not a URL', 'not a url at all', /is not a URL/],
    ['a file: URL', 'file:///etc/passwd', /is a file: URL; only http and https/],
    ['a javascript: URL', 'javascript:alert(1)', /is a javascript: URL/],
  ])(
    'a store URL that is %s makes that store unreachable, names it, and sends nothing',
    async (_l, url, why) => {
      await evilStore(url);

      const result = await run();

      expectHealthyDriftReported(result);
      const evil = evilCoverage(result.report);
      expect(evil?.status).toBe('unreachable');
      expect(evil?.error).toMatch(why);
      expect(
        result.report?.findings.some((f) => f.rule === 'store-unverified' && f.store.name === 'evil'),
      ).toBe(true);
      expect(hostile.requests).toBe(0);
    },
  );

  it('credentials in a store URL are dropped before it is used or shown', async () => {
    const withUser = hostile.url.replace('http://', 'http://auditor:url-password-42@');
    await evilStore(withUser);
    hostile.answer = listing([bucketXml('rogue-bucket')]);

    const result = await run();

    expectHealthyDriftReported(result);
    const everything =
      result.stdout + result.stderr + (await readFile(join(ctx.dir, 'latest', 'report.html'), 'utf8'));
    expect(everything).not.toContain('url-password-42');
    expect(evilCoverage(result.report)?.store.endpoint).toBe(hostile.url);
    expect(hostile.requests).toBeGreaterThan(0);
  });

  it('a listing that trickles for ever is cut at the store deadline; every other store is reported', async () => {
    await evilStore();
    hostile.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    };

    const started = Date.now();
    const result = await run([], {
      scan: { storeDeadlineSeconds: 3, requestTimeoutMs: 1000, maxAttempts: 1 },
    });

    expect(Date.now() - started).toBeLessThan(30_000);
    expectHealthyDriftReported(result);
    expect(evilCoverage(result.report)).toMatchObject({ status: 'partial' });
    expect(evilCoverage(result.report)?.error).toMatch(/deadline \(3 s, scan.storeDeadlineSeconds\)/);
  });

  it('a single ListBuckets page of 130,000 buckets is read (no stack overflow)', async () => {
    await evilStore();
    hostile.answer = listing(Array.from({ length: 130_000 }, (_, i) => bucketXml(`b-${i}`)));

    // Only the rules that list: 130,000 unmanaged findings would make a report of some 200 MB.
    const result = await run([
      '--format',
      'json',
      '--rule',
      'bucket-missing-in-store',
      '--rule',
      'store-unverified',
    ]);

    expectHealthyDriftReported(result);
    expect(evilCoverage(result.report)).toMatchObject({ status: 'verified', bucketsInStore: 130_000 });
  });

  it.each([
    ['10 MB of nested elements', () => listing(repeated('<a>', 1024 * 1024, 10)), /nested deeper than 64/],
    [
      'an RGW admin listing of 10 MB of nested brackets',
      () => json(['[', ...repeated('[', 1024 * 1024, 10)]),
      /JSON nested deeper than 64 levels/,
    ],
    ['a 400 MiB error page', () => streamed(500, 'text/html', repeated('x', 1024 * 1024, 400)), /HTTP 500/],
    [
      'a listing of 2 million buckets',
      () => listing(Array.from({ length: 2_000_000 }, (_, i) => bucketXml(`bucket-number-${i}`))),
      /more than 1000000 buckets: not read on \(scan.maxBuckets\)/,
    ],
  ])(
    '%s leaves the store partial or unreachable with the reason, in under 512 MiB',
    async (label, answer, why) => {
      await evilStore(hostile.url, 'evil', label.includes('RGW') ? 'Ceph' : 'Hostile S3');
      hostile.answer = answer() as never;
      const probe = await mkdtemp(join(tmpdir(), 'csdrift-rss-'));
      try {
        const rssFile = join(probe, 'rss');
        const result = await run(
          ['--format', 'json'],
          { scan: { maxAttempts: 1 } },
          {
            NODE_OPTIONS: `--import=${RSS_PROBE}`,
            CSDRIFT_BENCH_RSS_FILE: rssFile,
          },
        );

        expectHealthyDriftReported(result);
        expect(['partial', 'unreachable']).toContain(evilCoverage(result.report)?.status);
        expect(evilCoverage(result.report)?.error).toMatch(why);
        const peak = Number(await readFile(rssFile, 'utf8'));
        console.info(`peak RSS with ${label}: ${Math.round(peak / 1024 ** 2)} MiB`);
        expect(peak).toBeLessThan(512 * 1024 ** 2);
      } finally {
        await rm(probe, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it('two stores sharing a name cannot share the keys a config gives one of them', async () => {
    const a = await evilStore(hostile.url, 'twin');
    const b = await evilStore(hostile.url, 'twin');

    const result = await run([], { stores: { twin: { accessKey: 'K', secretKey: 'S3CRETKEY' } } });

    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`config: stores.twin: 2 stores share that name (ids ${a.id}, ${b.id})`);
    expect(result.stderr).not.toContain('S3CRETKEY');
  });

  it('hostile rows: a store id that is not a number names no store; a bucket named __proto__ is a bucket like any other', async () => {
    const alice = await ctx.cloud.account('alice');
    const stray = await ctx.cloud.seed.bucket({ name: bucketName('stray'), store: healthy, account: alice });
    await ctx.cloud.database.conn.query('UPDATE bucket SET object_store_id = ? WHERE id = ?', [
      `${healthy.id}xyz`,
      stray.id,
    ]);
    await ctx.cloud.seed.bucket({ name: '__proto__', store: healthy, account: alice }); // not in the store either

    const result = await run();

    expect(result.code).toBe(1);
    expect(result.report?.cloudstack.rowsWithoutStore).toEqual({ count: 1, bucketIds: [stray.id] });
    const missing = result.report?.findings.filter((f) => f.rule === 'bucket-missing-in-store') ?? [];
    expect(missing.map((f) => f.bucket).sort()).toEqual(['__proto__', gone].sort());
    expect(({} as Record<string, unknown>).evidence).toBeUndefined();
  });
});
