import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { csdrift } from '../support/cli.js';
import { bucketName, s3For } from '../support/cloud.js';
import { runFolder } from '../../functions/publish.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { expectValidReport } from '../support/report-schema.js';

const ceph = inject('ceph');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('csdrift audit against a CloudStack-shaped DB and a live RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  it('--json prints the report, exits 1 on drift, and writes the run and latest reports', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.bucket(bucketName('photos'), store, alice);
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const stuck = bucketName('half');
    await ctx.cloud.seed.bucket({
      name: stuck,
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(2),
    });

    // Act
    const run = await csdrift([
      'audit',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--json',
      '--out',
      ctx.dir,
    ]);

    // Assert
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expectValidReport(report);
    expect(report.findings.map((f) => [f.rule, f.bucket, f.store.name, f.owner?.accountName])).toEqual([
      ['bucket-missing-in-store', gone, 'ceph-1', 'alice'],
      ['bucket-stuck-allocated', stuck, 'ceph-1', 'alice'],
    ]);
    expect(run.stderr).toMatch(/\[1\/1\] ceph-1: verified, 1 bucket\(s\) listed/);
    const files = (await filesUnder(ctx.dir)).map((f) => f.slice(ctx.dir.length + 1)).sort();
    const runDir = join('runs', ...report.startedAt.slice(0, 10).split('-'), report.runId);
    expect(files).toEqual([
      join('current', 'report.html'),
      join('current', 'report.json'),
      join('latest', 'report.html'),
      join('latest', 'report.json'),
      join(runDir, 'report.html'),
      join(runDir, 'report.json'),
      join('state', 'history.json'),
      join('state', 'ledger.json'),
    ]);
    expect(JSON.parse(await readFile(join(ctx.dir, 'latest', 'report.json'), 'utf8'))).toEqual(report);
    const current = JSON.parse(await readFile(join(ctx.dir, 'current', 'report.json'), 'utf8')) as Report;
    expect(current).toMatchObject({ kind: 'current', status: 'drift', runId: report.runId });
    expect(current.findings.map((f) => f.id).sort()).toEqual(report.findings.map((f) => f.id).sort());
  });

  it('--fail-on high exits 0 when only low findings remain; --rule narrows the run', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.seed.bucket({
      name: bucketName('half'),
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(2),
    });
    const db = dbUrlText(ctx.cloud.database.db);

    const lenient = await csdrift(['audit', '--quiet', '--db', db, '--out', ctx.dir, '--fail-on', 'high']);
    const scoped = await csdrift([
      'audit',
      '--quiet',
      '--db',
      db,
      '--out',
      ctx.dir,
      '--json',
      '--rule',
      'bucket-missing-in-store',
    ]);

    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/low +bucket-stuck-allocated/);
    expect(scoped.code).toBe(0);
    expect(Object.keys((JSON.parse(scoped.stdout) as Report).coverage[0]?.checks ?? {})).toEqual([
      'bucket-missing-in-store',
    ]);
  });

  it('no secret reaches stdout, stderr or a report, even when a store refuses its keys', async () => {
    // Prepare: every kind of secret CloudStack keeps, with values that are easy to find
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const user = `csdrift_ro_${randomBytes(3).toString('hex')}`;
    const { conn } = ctx.cloud.database;
    await conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await conn.query(`GRANT SELECT ON \`${ctx.cloud.database.db.database}\`.* TO '${user}'@'%'`);
    const store = await ctx.cloud.store('ceph-1');
    const refused = await ctx.cloud.seed.store({
      name: 'ceph-wrong-keys',
      provider: 'Ceph',
      url: ceph.endpoint,
      accessKey: ceph.systemAdmin.accessKey,
      secretKey: `wrong-${randomBytes(12).toString('hex')}`,
    });
    const alice = await ctx.cloud.account('alice');
    const bucketSecret = `bucketsecret-${randomBytes(12).toString('hex')}`;
    await ctx.cloud.bucket(bucketName('photos'), store, alice);
    await ctx.cloud.seed.bucket({
      name: bucketName('gone'),
      store,
      account: alice,
      accessKey: alice.keys.accessKey,
      secretKey: bucketSecret,
    });
    await ctx.cloud.seed.bucket({
      name: bucketName('other'),
      store: refused,
      account: alice,
      secretKey: bucketSecret,
    });
    const [secretRows] = await conn.query(
      `SELECT value FROM object_store_details UNION SELECT value FROM account_details`,
    );
    const secrets = [password, bucketSecret, ...(secretRows as { value: string }[]).map((r) => r.value)];
    const db = `mysql://${user}:${password}@127.0.0.1:3306/${ctx.cloud.database.db.database}`;

    // Act
    const runs = [
      await csdrift(['audit', '--db', db, '--out', ctx.dir, '--format', 'json,html,csv,md']),
      await csdrift(['audit', '--db', db, '--out', ctx.dir, '--json', '--format', 'json,html,csv,md']),
      await csdrift(['audit', '--db', db.replace(password, `${password}x`), '--out', ctx.dir]),
    ];

    // Assert
    expect(runs.map((r) => r.code)).toEqual([2, 2, 3]);
    expect(runs[2]?.stderr).toMatch(/access denied for user/);
    const texts = [
      ...runs.flatMap((r) => [r.stdout, r.stderr]),
      ...(await Promise.all((await filesUnder(ctx.dir)).map((f) => readFile(f, 'utf8')))),
    ];
    expect(texts.join('\n')).toContain('auth_failed');
    for (const secret of secrets) {
      for (const text of texts)
        expect(text.includes(secret), `a secret (${secret.slice(0, 3)}…) leaked`).toBe(false);
    }
    await conn.query(`DROP USER '${user}'@'%'`);
  });

  it('--out s3://… writes the same layout to an S3 bucket through the default credential chain and the SDK endpoint variables', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.seed.bucket({
      name: bucketName('half'),
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(2),
    });
    const reports = bucketName('reports');
    await ctx.cloud.createInStore(reports, ceph.systemAdmin);
    const aws = {
      AWS_ENDPOINT_URL_S3: ceph.endpoint,
      AWS_ACCESS_KEY_ID: ceph.systemAdmin.accessKey,
      AWS_SECRET_ACCESS_KEY: ceph.systemAdmin.secretKey,
      AWS_REGION: 'us-east-1',
    };
    const args = [
      'audit',
      '--quiet',
      '--json',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      `s3://${reports}/nightly`,
      '--format',
      'json,html,csv,md',
    ];

    // Act
    const first = await csdrift(args, aws);
    const second = await csdrift(args, aws);

    // Assert
    expect([first.code, second.code]).toEqual([1, 1]);
    const report = JSON.parse(second.stdout) as Report;
    expect(report.findings[0]?.status).toBe('open'); // the ledger in the bucket carried over
    const s3 = s3For(ceph.endpoint, ceph.systemAdmin);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: reports }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
    expect(keys).toContain('nightly/state/ledger.json');
    expect(keys).toContain(`nightly/${runFolder(report)}/report.html`);
    const types = await Promise.all(
      ['json', 'html', 'csv', 'md'].map(
        async (ext) =>
          (await s3.send(new HeadObjectCommand({ Bucket: reports, Key: `nightly/latest/report.${ext}` })))
            .ContentType,
      ),
    );
    expect(types).toEqual([
      'application/json',
      'text/html; charset=utf-8',
      'text/csv; charset=utf-8',
      'text/markdown; charset=utf-8',
    ]);
    s3.destroy();
  });

  it('a run that finds the ledger taken by another run waits, reads it again, and lands when it is free', async () => {
    await ctx.cloud.store('ceph-1');
    const db = dbUrlText(ctx.cloud.database.db);
    const first = await csdrift(['audit', '--quiet', '--json', '--db', db, '--out', ctx.dir]);
    expect(first.code).toBe(0);
    const lock = join(ctx.dir, 'state', 'ledger.lock');
    await mkdir(lock); // held by another run, alive (fresh), which lets go in 1.5 s
    const release = setTimeout(() => void rm(lock, { recursive: true, force: true }), 1500);

    const run = await csdrift(['audit', '--quiet', '--json', '--db', db, '--out', ctx.dir]);
    clearTimeout(release);

    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/ledger update was not written/);
    const report = JSON.parse(run.stdout) as Report;
    const latest = JSON.parse(await readFile(join(ctx.dir, 'latest', 'report.json'), 'utf8')) as Report;
    expect(latest.runId).toBe(report.runId);
    const ledger = JSON.parse(await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8')) as {
      lastRunId: string;
    };
    expect(ledger.lastRunId).toBe(report.runId);
  });
});
