import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { publishRun, runFolder } from '../../functions/publish.js';
import { S3Storage } from '../../functions/state/s3-storage.js';
import type { StateStorage } from '../../functions/state/storage.js';
import { LEDGER_KEY, readLedger } from '../../functions/state/ledger-store.js';
import { HISTORY_KEY, parseHistory } from '../../functions/core/history.js';
import { auditWithLedger } from '../support/audit.js';
import { csdrift } from '../support/cli.js';
import { bucketName, s3For } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { expectValidReport } from '../support/report-schema.js';

const ceph = inject('ceph');

describe('the finding lifecycle over nightly runs against a live RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  async function night(extra: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
    const run = await csdrift([
      'audit',
      '--quiet',
      '--json',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
      ...extra,
    ]);
    const report = JSON.parse(run.stdout || 'null') as Report;
    if (report) expectValidReport(report);
    return { code: run.code, report, stderr: run.stderr };
  }
  const statusOf = (report: Report, bucket: string) =>
    report.findings.find((f) => f.bucket === bucket)?.status ??
    (report.resolved.some((r) => r.bucket === bucket) ? 'resolved' : 'absent');

  it('gives new, then open, then resolved once the drift is fixed; a night the store is down changes nothing', async () => {
    // Prepare: one drift that will be fixed, one that stays
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const fixedLater = bucketName('gone');
    const stays = bucketName('rogue');
    await ctx.cloud.bucketDeletedInStore(fixedLater, store, alice);
    await ctx.cloud.createInStore(stays, alice.keys);

    // Act
    const first = await night();
    const second = await night();
    await ctx.cloud.createInStore(fixedLater, alice.keys); // the operator re-creates it
    const third = await night();
    await ctx.cloud.database.conn.query('UPDATE object_store SET url = ? WHERE id = ?', [
      'http://127.0.0.1:1',
      store.id,
    ]);
    const blind = await night();
    await ctx.cloud.database.conn.query('UPDATE object_store SET url = ? WHERE id = ?', [
      ceph.endpoint,
      store.id,
    ]);
    const fourth = await night();

    // Assert
    expect([first, second, third].map((n) => statusOf(n.report, fixedLater))).toEqual([
      'new',
      'open',
      'resolved',
    ]);
    expect([first, second, third, blind, fourth].map((n) => statusOf(n.report, stays))).toEqual([
      'new',
      'open',
      'open',
      'absent',
      'open',
    ]);
    expect(third.report.summary).toMatchObject({ findings: 1, new: 0, open: 1, resolved: 1 });
    expect(blind.code).toBe(2);
    expect(blind.report.resolved).toEqual([]);
    const ledger = JSON.parse(await readFile(join(ctx.dir, LEDGER_KEY), 'utf8'));
    const staysEntry = Object.values(ledger.entries).find(
      (e) => (e as { bucket: string }).bucket === stays,
    ) as { firstSeen: string; lastSeen: string };
    expect(staysEntry.firstSeen).toBe(first.report.findings.find((f) => f.bucket === stays)?.firstSeen);
    expect(staysEntry.lastSeen).toBe(fourth.report.findings.find((f) => f.bucket === stays)?.lastSeen);
  });

  it('reports a suppressed finding as suppressed, with its reason, and exits 0', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const legacy = bucketName('legacy');
    await ctx.cloud.createInStore(legacy, alice.keys);
    const config = join(ctx.dir, 'config.yaml');
    await writeFile(
      config,
      `suppressions:\n  - { rule: bucket-unmanaged-in-store, store: ${store.uuid}, bucket: ${legacy}, reason: "pre-CloudStack data", owner: storage-team, expires: 2099-01-01 }\n`,
    );

    const { code, report } = await night(['--config', config]);

    expect(code).toBe(0);
    expect(report.status).toBe('in_sync');
    expect(report.findings).toMatchObject([
      {
        bucket: legacy,
        status: 'suppressed',
        evidence: { suppression: { reason: 'pre-CloudStack data', owner: 'storage-team' } },
      },
    ]);
    expect(report.summary).toMatchObject({ findings: 1, suppressed: 1, new: 0 });
  });

  it('stops with one clear error on a corrupt ledger, and neither overwrites it nor writes a run', async () => {
    await ctx.cloud.store('ceph-1');
    await night(); // a good first run
    await writeFile(join(ctx.dir, LEDGER_KEY), '{"schemaVersion": 1, "entr');
    const runsBefore = await readdir(join(ctx.dir, 'runs'), { recursive: true });

    const run = await csdrift([
      'audit',
      '--quiet',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
    ]);

    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/ledger\.json is not valid JSON .*move it aside/);
    expect(await readFile(join(ctx.dir, LEDGER_KEY), 'utf8')).toBe('{"schemaVersion": 1, "entr');
    expect(await readdir(join(ctx.dir, 'runs'), { recursive: true })).toEqual(runsBefore);
  });
});

describe('ledger writes that race or crash', () => {
  const ctx = cephCloudPerTest('4.21');
  beforeEach(async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.seed.bucket({ name: bucketName('gone'), store, account: alice });
  });

  /** Two runs that both read the ledger before either writes it. */
  async function race(storage: StateStorage, merge: boolean) {
    const stored = await readLedger(storage);
    const [a, b] = [await auditWithLedger(ctx.cloud.database), await auditWithLedger(ctx.cloud.database)];
    const publish = ({ rebase, ...o }: typeof a) =>
      publishRun({
        storage,
        ...o,
        ...(merge ? { rebase } : {}),
        formats: ['json'],
        ledgerVersion: stored.version,
        writeLedger: true,
      });
    const results = await Promise.allSettled([publish(a), publish(b)]);
    return { a, b, results, after: await readLedger(storage) };
  }

  const sinks: [string, () => StateStorage][] = [
    ['a folder', () => new FolderStorage(ctx.dir)],
    [
      'an S3 prefix on RGW (conditional writes)',
      () => new S3Storage(`s3://${bucketForLedgers}/nightly`, s3For(ceph.endpoint, ceph.systemAdmin)),
    ],
  ];
  async function prepare(storage: StateStorage): Promise<void> {
    if (storage instanceof S3Storage)
      await s3For(ceph.endpoint, ceph.systemAdmin).send(
        new CreateBucketCommand({ Bucket: bucketForLedgers }),
      );
  }

  it.each(sinks)(
    'in %s, the second of two racing runs that cannot merge loses and says so, keeping its run files',
    async (_label, makeSink) => {
      const storage = makeSink();
      await prepare(storage);

      for (const round of ['creating the ledger', 'updating it']) {
        const { a, b, results, after } = await race(storage, false);
        const lost = results.filter((r) => r.status === 'rejected');
        expect(lost, round).toHaveLength(1);
        expect(String((lost[0] as PromiseRejectedResult).reason)).toMatch(
          /another run (updated|holds) .*ledger.*this run's reports are at/,
        );
        const winner = results[0]?.status === 'fulfilled' ? a : b;
        expect(after.ledger?.lastRunId, round).toBe(winner.report.runId);
        const loser = winner === a ? b : a;
        expect((await readLedger(storage)).ledger).toEqual(winner.ledger);
        const loserReport = JSON.parse(await readRunReport(storage, loser.report)) as Report;
        expect(loserReport.runId).toBe(loser.report.runId);
      }
    },
  );

  it.each(sinks)(
    'in %s, a run that loses the race reads the ledger again and merges',
    async (_label, makeSink) => {
      const storage = makeSink();
      await prepare(storage);

      for (const round of ['creating the ledger', 'updating it']) {
        const { results, after } = await race(storage, true);
        expect(
          results.map((r) => r.status),
          round,
        ).toEqual(['fulfilled', 'fulfilled']);
        const merges = results.map((r) => (r as PromiseFulfilledResult<{ merges: number }>).value.merges);
        expect(
          merges.filter((m) => m > 0),
          round,
        ).toHaveLength(1);
        // The finding is there once, seen by both runs.
        const entries = Object.values(after.ledger?.entries ?? {});
        // (On RGW the ledger's own bucket is in the audited store: an unmanaged bucket, found by both too.)
        expect(entries.filter((e) => e.rule === 'bucket-missing-in-store')).toHaveLength(1);
      }
    },
  );

  it('keeps the run history beside the ledger: full runs give the trend, and a crash mid-write keeps the last good one', async () => {
    // Prepare: two nightly full runs
    const storage = new FolderStorage(ctx.dir);
    const publish = async (
      target: StateStorage,
      previous: Awaited<ReturnType<typeof auditWithLedger>>['ledger'] | null,
    ) => {
      const run = await auditWithLedger(ctx.cloud.database, {}, { previousLedger: previous });
      const stored = await readLedger(target);
      return publishRun({
        storage: target,
        ...run,
        formats: ['json'],
        ledgerVersion: stored.version,
        writeLedger: true,
      });
    };
    const first = await publish(storage, null);
    const second = await publish(storage, first.ledger);
    // A targeted run is history too, kept apart
    const targeted = await auditWithLedger(
      ctx.cloud.database,
      {},
      { buckets: ['nothing-here'], previousLedger: second.ledger },
    );
    await publishRun({
      storage,
      ...targeted,
      formats: ['json'],
      ledgerVersion: (await readLedger(storage)).version,
      writeLedger: true,
    });
    const before = await readFile(join(ctx.dir, HISTORY_KEY), 'utf8');

    // Act: a third run dies just before its history is put in place
    class CrashingSink extends FolderStorage {
      protected override async replace(tmp: string, path: string): Promise<void> {
        if (path.endsWith('history.json')) throw new Error('killed');
        return super.replace(tmp, path);
      }
    }
    await expect(publish(new CrashingSink(ctx.dir), second.ledger)).rejects.toThrow('killed');

    // Assert
    expect(second.report.trend?.points.map((p) => p.runId)).toEqual([
      first.report.runId,
      second.report.runId,
    ]);
    expect(second.report.trend?.previous?.runId).toBe(first.report.runId);
    expectValidReport(second.report);
    const history = parseHistory(await readFile(join(ctx.dir, HISTORY_KEY), 'utf8'), 'history');
    expect(history.full.map((e) => e.runId)).toEqual([first.report.runId, second.report.runId]);
    expect(history.scoped.map((e) => e.scope?.buckets)).toEqual([['nothing-here']]);
    expect(await readFile(join(ctx.dir, HISTORY_KEY), 'utf8')).toBe(before);
  });

  it('a crash between writing the new ledger and putting it in place leaves the previous ledger intact', async () => {
    // Prepare: a good ledger, then a storage that dies just before the rename
    const storage = new FolderStorage(ctx.dir);
    const first = await auditWithLedger(ctx.cloud.database);
    await publishRun({ storage, ...first, formats: ['json'], ledgerVersion: null, writeLedger: true });
    const before = await readFile(join(ctx.dir, LEDGER_KEY), 'utf8');
    class CrashingSink extends FolderStorage {
      protected override async replace(tmp: string, path: string): Promise<void> {
        if (path.endsWith('ledger.json')) throw new Error('killed');
        return super.replace(tmp, path);
      }
    }
    const second = await auditWithLedger(ctx.cloud.database, {}, { previousLedger: first.ledger });

    // Act
    const crash = publishRun({
      storage: new CrashingSink(ctx.dir),
      ...second,
      formats: ['json'],
      ledgerVersion: (await readLedger(storage)).version,
      writeLedger: true,
    });

    // Assert
    await expect(crash).rejects.toThrow('killed');
    expect(await readFile(join(ctx.dir, LEDGER_KEY), 'utf8')).toBe(before);
    expect((await readLedger(storage)).ledger).toEqual(first.ledger);
    const latest = JSON.parse(await readFile(join(ctx.dir, 'latest', 'report.json'), 'utf8')) as Report;
    expect(latest.runId).toBe(first.report.runId); // latest/ is replaced only after the ledger
    const third = await auditWithLedger(ctx.cloud.database, {}, { previousLedger: first.ledger });
    await publishRun({
      storage,
      ...third,
      formats: ['json'],
      ledgerVersion: (await readLedger(storage)).version,
      writeLedger: true,
    }); // the next run is not blocked
  });
});

const bucketForLedgers = `csdrift-reports-${Date.now().toString(36)}`;

async function readRunReport(storage: StateStorage, report: Report): Promise<string> {
  const key = `${runFolder(report)}/report.json`;
  if (storage instanceof FolderStorage) return readFile(storage.location(key), 'utf8');
  const object = await s3For(ceph.endpoint, ceph.systemAdmin).send(
    new GetObjectCommand({ Bucket: bucketForLedgers, Key: `nightly/${key}` }),
  );
  return (await object.Body?.transformToString()) ?? '';
}
