// A store judged a partition of its names at a time (common/partitions.ts, audit.ts judgeStore) finds
// exactly what it finds judged whole, on a live RGW with drift of every kind planted; its spilled
// partitions are gone when the audit is.
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import type { Report } from '../../functions/core/report.js';
import { FAST_SCAN, audit, found } from '../support/audit.js';
import type { CephCloud } from '../support/cloud.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');

/** The partitions' files this process left in the OS temp folder. */
async function spilled(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((f) => /^csdrift-(rows|listing|names)-/.test(f));
}

/** What a report concluded, without its clock: to compare a partitioned audit with a whole one. */
function conclusions(report: Report) {
  return {
    status: report.status,
    found: found(report),
    coverage: report.coverage.map((c) => ({
      status: c.status,
      bucketsInDb: c.bucketsInDb,
      bucketsInStore: c.bucketsInStore,
      checks: c.checks,
      notes: c.evidence.checkNotes,
    })),
    evidence: report.findings.map((f) => ({ id: f.id, expected: f.expected, actual: f.actual })),
  };
}

describe('a store judged in partitions', () => {
  const perTest = cephCloudPerTest('4.21');
  let cloud: CephCloud;
  beforeEach(() => {
    cloud = perTest.cloud;
  });

  it('finds exactly what the whole store shows, drift of every kind, and leaves no file behind', async () => {
    const store = await cloud.store('ceph-1', ceph.plainAdmin);
    const alice = await cloud.account('alice');
    const web = await cloud.project('web');
    const bob = await cloud.account('bob', { removed: hoursAgo(24) });
    const n = Object.fromEntries(
      ['gone', 'rogue', 'zombie', 'half', 'twice', 'orphan', 'orphan2', 'switched'].map((l) => [
        l,
        bucketName(l),
      ]),
    ) as Record<string, string>;
    for (let i = 0; i < 8; i++) await cloud.bucket(bucketName(`fine${i}`), store, i % 2 ? alice : web);
    await cloud.bucketDeletedInStore(n.gone as string, store, alice);
    await cloud.createInStore(n.rogue as string, alice.keys);
    await cloud.bucket(n.zombie as string, store, alice, { removed: hoursAgo(2) });
    await cloud.seed.bucket({
      name: n.half as string,
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(3),
    });
    await cloud.bucket(n.twice as string, store, alice);
    await cloud.seed.bucket({ name: n.twice as string, store, account: alice });
    await cloud.bucket(n.orphan as string, store, bob);
    await cloud.bucket(n.orphan2 as string, store, bob);
    await cloud.bucket(n.switched as string, store, alice); // CloudStack says off; the store is told on
    await cloud.client(alice.keys).send(
      new PutBucketVersioningCommand({
        Bucket: n.switched,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const before = await spilled();

    const whole = await audit(cloud.database);
    // Five shards: the rows, the listing and the names go to files, and are judged one at a time.
    const parts = await audit(cloud.database, { scan: { ...FAST_SCAN, shards: 5 } });

    expect(found(whole)).toEqual(
      [
        `bucket-account-removed ${n.orphan}`,
        `bucket-account-removed ${n.orphan2}`,
        `bucket-duplicate-name ${n.twice}`,
        `bucket-missing-in-store ${n.gone}`,
        `bucket-removed-but-present ${n.zombie}`,
        `bucket-stuck-allocated ${n.half}`,
        `bucket-unmanaged-in-store ${n.rogue}`,
        `bucket-versioning-mismatch ${n.switched}`,
        'store-user-orphaned -',
      ].sort(),
    );
    expect(conclusions(parts)).toEqual(conclusions(whole));
    // Bob's user and both his buckets, added up over the partitions they fell in.
    const orphaned = (r: Report) => r.findings.find((f) => f.rule === 'store-user-orphaned')?.evidence;
    expect(orphaned(parts)).toEqual(orphaned(whole));
    expect(orphaned(parts)?.buckets).toEqual([n.orphan, n.orphan2].sort());
    expect(await spilled()).toEqual(before);
  });

  it('a store that fails its listing is unverified in every partition, its DB-only verdicts kept', async () => {
    const store = await cloud.store('ceph-1', {
      accessKey: 'NOSUCHACCESSKEY00000',
      secretKey: ceph.plainAdmin.secretKey,
    });
    const alice = await cloud.account('alice');
    for (let i = 0; i < 6; i++) await cloud.bucket(bucketName(`b${i}`), store, alice);
    const half = bucketName('half');
    await cloud.seed.bucket({
      name: half,
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(3),
    });

    const whole = await audit(cloud.database);
    const parts = await audit(cloud.database, { scan: { ...FAST_SCAN, shards: 5 } });

    expect(parts.coverage[0]?.status).toBe('auth_failed');
    expect(found(parts)).toEqual([`bucket-stuck-allocated ${half}`, 'store-unverified -']);
    expect(conclusions(parts)).toEqual(conclusions(whole));
  });
});
