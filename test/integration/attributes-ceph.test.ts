import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { audit } from '../support/audit.js';
import { radosgwAdmin } from '../support/ceph.js';
import { csdrift } from '../support/cli.js';
import type { CephAccount, CephCloud } from '../support/cloud.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { expectValidReport } from '../support/report-schema.js';
import type { Fault } from '../support/fault-proxy.js';
import { FaultProxy, faults } from '../support/fault-proxy.js';

const ceph = inject('ceph');
const GIB = 1024 ** 3;

/** CloudStack's public policy, as its Ceph driver writes it. */
function publicPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Action: ['s3:GetBucketLocation', 's3:ListBucket'],
        Effect: 'Allow',
        Principal: '*',
        Resource: `arn:aws:s3:::${bucket}`,
      },
      { Action: 's3:GetObject', Effect: 'Allow', Principal: '*', Resource: `arn:aws:s3:::${bucket}/*` },
    ],
  });
}

async function setVersioning(
  cloud: CephCloud,
  owner: CephAccount,
  bucket: string,
  status: 'Enabled' | 'Suspended',
) {
  await cloud
    .client(owner.keys)
    .send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
}

async function bucketQuota(bucket: string, bytes: number) {
  await radosgwAdmin(ceph.conf, [
    'quota',
    'set',
    '--quota-scope=bucket',
    `--bucket=${bucket}`,
    `--max-size=${bytes}`,
  ]);
  await radosgwAdmin(ceph.conf, ['quota', 'enable', '--quota-scope=bucket', `--bucket=${bucket}`]);
}

const byRule = (report: Report, rule: string) => report.findings.filter((f) => f.rule === rule);

describe('attribute rules against a live Ceph RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  it('reports each planted attribute drift once, in CloudStack terms, and nothing for buckets in sync', async () => {
    // Prepare: for each rule a drifted bucket and a matching one, made as CloudStack makes them.
    const { cloud } = ctx;
    const store = await cloud.store('ceph-1');
    const alice = await cloud.account('alice');
    const bob = await cloud.account('bob');
    const s3 = cloud.client(alice.keys);
    const n = {
      versionedOk: bucketName('ver-ok'),
      versionOff: bucketName('ver-off'),
      suspendedOk: bucketName('susp-ok'),
      versionedBehindBack: bucketName('ver-on'),
      lockOk: bucketName('lock-ok'),
      lockMissing: bucketName('lock-gone'),
      lockForcesVersioning: bucketName('lock-ver'),
      publicOk: bucketName('pub-ok'),
      openedUp: bucketName('opened'),
      quotaOk: bucketName('quota-ok'),
      quotaMissing: bucketName('quota-gone'),
      usageOk: bucketName('use-ok'),
      usageKib: bucketName('use-kib'),
      usageStale: bucketName('use-stale'),
      ownedByBob: bucketName('bobs'),
      encrypted: bucketName('enc'),
    };
    await cloud.bucket(n.versionedOk, store, alice, { versioning: true });
    await setVersioning(cloud, alice, n.versionedOk, 'Enabled');
    await cloud.bucket(n.versionOff, store, alice, { versioning: true }); // never enabled in the store
    await cloud.bucket(n.suspendedOk, store, alice, { versioning: false });
    await setVersioning(cloud, alice, n.suspendedOk, 'Enabled');
    await setVersioning(cloud, alice, n.suspendedOk, 'Suspended');
    await cloud.bucket(n.versionedBehindBack, store, alice);
    await setVersioning(cloud, alice, n.versionedBehindBack, 'Enabled');
    await s3.send(new CreateBucketCommand({ Bucket: n.lockOk, ObjectLockEnabledForBucket: true }));
    await cloud.seed.bucket({ name: n.lockOk, store, account: alice, objectLock: true, versioning: true });
    await cloud.bucket(n.lockMissing, store, alice, { objectLock: true });
    // Object lock turns versioning on in the store by itself: CloudStack's versioning=0 is no drift.
    await s3.send(
      new CreateBucketCommand({ Bucket: n.lockForcesVersioning, ObjectLockEnabledForBucket: true }),
    );
    const forced = await s3.send(new GetBucketVersioningCommand({ Bucket: n.lockForcesVersioning }));
    expect(forced.Status).toBe('Enabled'); // the premise: the store turned versioning on by itself
    await cloud.seed.bucket({
      name: n.lockForcesVersioning,
      store,
      account: alice,
      objectLock: true,
      versioning: false,
    });
    await cloud.bucket(n.publicOk, store, alice, { policy: 'public' });
    await s3.send(new PutBucketPolicyCommand({ Bucket: n.publicOk, Policy: publicPolicy(n.publicOk) }));
    await cloud.bucket(n.openedUp, store, alice, { policy: 'private' });
    // The same meaning written differently: one statement, {"AWS": "*"}, a wildcard action.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: n.openedUp,
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: ['*'] },
              Action: ['s3:Get*', 's3:List*'],
              Resource: [`arn:aws:s3:::${n.openedUp}`, `arn:aws:s3:::${n.openedUp}/*`],
            },
          ],
        }),
      }),
    );
    await cloud.bucket(n.quotaOk, store, alice, { quota: 2 });
    await bucketQuota(n.quotaOk, 2 * GIB);
    await cloud.bucket(n.quotaMissing, store, alice, { quota: 5 }); // as the Ceph driver leaves it
    const body = Buffer.alloc(300 * 1024, 7);
    for (const name of [n.usageOk, n.usageKib, n.usageStale]) {
      await cloud.createInStore(name, alice.keys);
      await s3.send(new PutObjectCommand({ Bucket: name, Key: 'data.bin', Body: body }));
    }
    await cloud.seed.bucket({ name: n.usageOk, store, account: alice, size: body.length });
    await cloud.seed.bucket({ name: n.usageKib, store, account: alice, size: body.length / 1024 });
    await cloud.seed.bucket({ name: n.usageStale, store, account: alice, size: 0 });
    await cloud.createInStore(n.ownedByBob, bob.keys);
    await cloud.seed.bucket({ name: n.ownedByBob, store, account: alice });
    await cloud.bucket(n.encrypted, store, alice, { encryption: true }); // no encryption on Ceph: not_applicable
    const config = join(ctx.dir, 'config.json');
    await writeFile(config, JSON.stringify({ rules: { 'bucket-usage-drift': { toleranceMiB: 0 } } }));

    // Act
    const run = await csdrift([
      'audit',
      '--db',
      dbUrlText(cloud.database.db),
      '--config',
      config,
      '--json',
      '--out',
      ctx.dir,
    ]);

    // Assert
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expectValidReport(report);
    const seen = report.findings.map(
      (f) => `${f.rule} ${f.bucket} ${JSON.stringify(f.expected)}->${JSON.stringify(f.actual)}`,
    );
    expect(seen.sort()).toEqual(
      [
        `bucket-versioning-mismatch ${n.versionOff} true->false`,
        `bucket-versioning-mismatch ${n.versionedBehindBack} false->true`,
        `bucket-object-lock-mismatch ${n.lockMissing} true->false`,
        `bucket-policy-mismatch ${n.openedUp} "private"->"public"`,
        `bucket-quota-mismatch ${n.quotaMissing} 5->null`,
        `bucket-usage-drift ${n.usageKib} 300->${body.length}`,
        `bucket-usage-drift ${n.usageStale} 0->${body.length}`,
        `bucket-owner-mismatch ${n.ownedByBob} "${alice.uuid}"->"${bob.uuid}"`,
      ].sort(),
    );
    expect(byRule(report, 'bucket-usage-drift').find((f) => f.bucket === n.usageKib)?.message).toContain(
      'apache/cloudstack#13224',
    );
    expect(byRule(report, 'bucket-quota-mismatch')[0]?.evidence.knownCause).toMatch(
      /bucket name as the user id/,
    );
    const coverage = report.coverage[0];
    expect(coverage?.checks).toMatchObject({
      'bucket-owner-mismatch': 'verified',
      'bucket-versioning-mismatch': 'verified',
      'bucket-encryption-mismatch': 'not_applicable',
      'bucket-object-lock-mismatch': 'verified',
      'bucket-policy-mismatch': 'verified',
      'bucket-quota-mismatch': 'verified',
      'bucket-usage-drift': 'verified',
      'store-accounting-drift': 'verified',
    });
    expect(coverage?.evidence.checkNotes?.['bucket-encryption-mismatch']).toMatch(
      /does not support bucket encryption/,
    );
    for (const secret of [alice.keys.secretKey, bob.keys.secretKey, ceph.systemAdmin.secretKey])
      expect(run.stdout + run.stderr).not.toContain(secret);
    // The cost: the admin listing by owner for owner, usage and quota (the user page, one listing per
    // user, the bucket-name page), then one bucket-instance read per bucket; the key rules add one
    // read per user.
    const users = (JSON.parse(await radosgwAdmin(ceph.conf, ['user', 'list'])) as string[]).length;
    expect(coverage?.evidence.requests).toBeLessThanOrEqual((coverage?.bucketsInStore ?? 0) + 2 + 2 * users);
  });

  it.each([
    ['a system admin', ceph.systemAdmin, 1],
    ['a plain admin', ceph.plainAdmin, 1],
    ['an admin without the metadata cap', ceph.listingAdmin, 3],
  ] as const)(
    'reads every attribute with %s, at a bounded cost per bucket',
    async (_label, admin, perBucket) => {
      const { cloud } = ctx;
      const store = await cloud.store('ceph-1', admin);
      const alice = await cloud.account('alice');
      const web = await cloud.project('web');
      const names = Array.from({ length: 6 }, (_, i) => bucketName(`b${i}`));
      for (const [i, name] of names.entries())
        await cloud.bucket(name, store, i % 2 ? alice : web, { versioning: i === 0 });
      await setVersioning(cloud, web, names[0] as string, 'Enabled');

      const report = await audit(cloud.database);

      expect(report.status).toBe('in_sync');
      expect(report.findings).toEqual([]);
      const coverage = report.coverage[0];
      expect(Object.values(coverage?.checks ?? {})).not.toContain('unverified');
      // One bucket-instance read per bucket where the metadata cap allows, else three S3 reads, the
      // owners' keys taking over after the admin's refusal: refusals are paid once per request in
      // flight, not once per bucket.
      // The listing by owner: the user page, one listing per user, the bucket-name page. Without the
      // metadata cap the user page is refused and the store is listed in one piece. The key rules
      // add one read per user (none without the cap: the same refused user page).
      const users = (JSON.parse(await radosgwAdmin(ceph.conf, ['user', 'list'])) as string[]).length;
      const byOwner = admin !== ceph.listingAdmin;
      const listing = byOwner ? 2 + users : 2;
      const principals = byOwner ? users : 0;
      expect(coverage?.evidence.requests).toBeLessThanOrEqual(
        perBucket * names.length + listing + 8 * 2 + principals,
      );
      if (perBucket === 1) expect(coverage?.evidence.requests).toBe(names.length + listing + principals);
    },
  );

  it('says unverified, never mismatch, for a bucket neither the admin nor anyone it has keys for may read', async () => {
    const { cloud } = ctx;
    const store = await cloud.store('ceph-1', ceph.listingAdmin);
    const alice = await cloud.account('alice');
    const name = bucketName('locked');
    await cloud.bucket(name, store, alice, { versioning: true, policy: 'public' }); // would both be drift
    await cloud.database.conn.query('DELETE FROM account_details');

    const report = await audit(cloud.database);

    expect(report.findings).toEqual([]);
    expect(report.status).toBe('incomplete');
    expect(report.coverage[0]?.status).toBe('verified');
    expect(report.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('unverified');
    expect(report.coverage[0]?.checks['bucket-policy-mismatch']).toBe('unverified');
    expect(report.coverage[0]?.checks['bucket-owner-mismatch']).toBe('verified'); // from the admin listing
    expect(report.coverage[0]?.evidence.checkNotes?.['bucket-versioning-mismatch']).toMatch(
      new RegExp(`${name}: AccessDenied.*no owner keys`),
    );
  });

  it.each([
    ['a reshard moved the instance (404)', { kind: 'status', status: 404, code: 'NoSuchKey' }, 'S3'],
    ['the metadata cap is missing (403)', faults.accessDenied, 'S3'],
    ['the admin API keeps failing (500)', faults.internalError, 'unverified'],
  ] as const)(
    'when reading a bucket instance fails because %s, falls back to S3 or says unverified, never mismatch',
    async (_label, fault: Fault, outcome) => {
      const { cloud } = ctx;
      const proxy = await new FaultProxy(ceph.endpoint).start();
      try {
        proxy.plan = (req) => (req.url?.startsWith('/admin/metadata/bucket.instance') ? fault : null);
        const store = await cloud.store('ceph-1', ceph.systemAdmin, proxy.endpoint);
        const alice = await cloud.account('alice');
        const drifted = bucketName('drifted');
        await cloud.bucket(drifted, store, alice, { versioning: true }); // the store was never told
        await cloud.bucket(bucketName('in-sync'), store, alice);

        const report = await audit(cloud.database, { scan: { maxAttempts: 2 } }, { retryBaseDelayMs: 1 });

        const versioning = byRule(report, 'bucket-versioning-mismatch').map((f) => f.bucket);
        if (outcome === 'S3') {
          expect(versioning).toEqual([drifted]);
          expect(report.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('verified');
        } else {
          expect(versioning).toEqual([]);
          expect(report.status).toBe('incomplete');
          expect(report.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('unverified');
          expect(report.coverage[0]?.evidence.checkNotes?.['bucket-versioning-mismatch']).toMatch(
            /InternalError.*bucket instance metadata/,
          );
        }
      } finally {
        await proxy.stop();
      }
    },
  );

  const notTheDocument = {
    'a bucket listing': {
      body: '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>x</Name><IsTruncated>false</IsTruncated></ListBucketResult>',
      contentType: 'application/xml',
    },
    "a proxy's HTML page": {
      body: '<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>',
      contentType: 'text/html',
    },
    'an empty body': { body: '', contentType: 'application/xml' },
  } as const;

  it.each(
    (['S3', 'admin API'] as const).flatMap((via) =>
      Object.keys(notTheDocument).map((what) => [via, what as keyof typeof notTheDocument] as const),
    ),
  )(
    'a store answering attribute reads through %s with %s has not answered: unverified, never drift',
    async (via, what) => {
      const { cloud } = ctx;
      const proxy = await new FaultProxy(ceph.endpoint).start();
      try {
        const answer: Fault = { kind: 'answer', status: 200, ...notTheDocument[what] };
        proxy.plan = (req) => {
          const url = req.url ?? '';
          if (url.startsWith('/admin/metadata/bucket.instance'))
            return via === 'admin API' ? answer : faults.accessDenied; // a 403 sends the reads to S3
          return /[?&](versioning|object-lock|policy)(=|&|$)/.test(url) ? answer : null;
        };
        const store = await cloud.store('ceph-1', ceph.systemAdmin, proxy.endpoint);
        const alice = await cloud.account('alice');
        // Each would be drift if the store's answer were believed: nothing in the store says so.
        await cloud.bucket(bucketName('ver'), store, alice, { versioning: true });
        await cloud.bucket(bucketName('lock'), store, alice, { objectLock: true });
        await cloud.bucket(bucketName('pub'), store, alice, { policy: 'public' });

        const report = await audit(cloud.database, { scan: { maxAttempts: 2 } }, { retryBaseDelayMs: 1 });

        const rules = ['bucket-versioning-mismatch', 'bucket-object-lock-mismatch', 'bucket-policy-mismatch'];
        expect(report.findings.filter((f) => rules.includes(f.rule))).toEqual([]);
        expect(report.status).toBe('incomplete');
        expect(report.coverage[0]?.status).toBe('verified'); // the store itself was listed fine
        for (const rule of rules) {
          expect(report.coverage[0]?.checks[rule as keyof Report['coverage'][0]['checks']]).toBe(
            'unverified',
          );
          expect(report.coverage[0]?.evidence.checkNotes?.[rule as 'bucket-policy-mismatch']).toMatch(
            via === 'S3' ? /where (<\w+>|a JSON policy) was due/ : /not JSON/,
          );
        }
      } finally {
        await proxy.stop();
      }
    },
  );

  it('reads only the attributes of the rules in scope', async () => {
    const { cloud } = ctx;
    const store = await cloud.store('ceph-1');
    const alice = await cloud.account('alice');
    for (let i = 0; i < 4; i++) await cloud.bucket(bucketName(`s${i}`), store, alice);

    const quotaOnly = await audit(cloud.database, {}, { rules: ['bucket-quota-mismatch'] });
    const versioningOnly = await audit(cloud.database, {}, { rules: ['bucket-versioning-mismatch'] });

    // The admin listing by owner (user page, one listing per user, bucket-name page) serves quota.
    const users = (JSON.parse(await radosgwAdmin(ceph.conf, ['user', 'list'])) as string[]).length;
    expect(quotaOnly.coverage[0]?.evidence.requests).toBe(2 + users);
    expect(versioningOnly.coverage[0]?.evidence.requests).toBe(2 + users + 4);
    expect(Object.keys(quotaOnly.coverage[0]?.checks ?? {})).toEqual(['bucket-quota-mismatch']);
  });

  it('store-accounting-drift compares object_store totals with the active buckets, naming the GB back-fill', async () => {
    const { cloud } = ctx;
    const store = await cloud.store('ceph-1');
    const other = await cloud.store('ceph-2');
    const alice = await cloud.account('alice');
    await cloud.seed.bucket({
      name: bucketName('a'),
      store,
      account: alice,
      quota: 3,
      size: 500 * 1024 ** 2,
    });
    await cloud.seed.bucket({
      name: bucketName('b'),
      store,
      account: alice,
      quota: 2,
      size: 700 * 1024 ** 2,
    });
    await cloud.seed.bucket({ name: bucketName('c'), store: other, account: alice, quota: 4, size: 10 });
    // Store 1: the upgrade back-filled 3 GB as 3, the server then added 2 GB in bytes; used is stale.
    await cloud.database.conn.query(
      'UPDATE object_store SET allocated_size = ?, used_size = ? WHERE id = ?',
      [3 + 2 * GIB, 5 * 1024 ** 3, store.id],
    );
    await cloud.database.conn.query(
      'UPDATE object_store SET allocated_size = ?, used_size = ? WHERE id = ?',
      [4 * GIB, 10, other.id],
    );

    const report = await audit(cloud.database, {}, { rules: ['store-accounting-drift'] });

    expect(report.findings.map((f) => `${f.store.name} ${f.attribute}`).sort()).toEqual([
      'ceph-1 allocatedSize',
      'ceph-1 usedSize',
    ]);
    const allocated = report.findings.find((f) => f.attribute === 'allocatedSize');
    expect(allocated).toMatchObject({ expected: 5 * GIB, actual: 3 + 2 * GIB });
    expect(allocated?.message).toMatch(
      /back-filled allocated_size in GB .*3 GB of quota are counted as 3 bytes/,
    );
  });
});
