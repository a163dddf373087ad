import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { exitCode } from '../../functions/core/report.js';
import { audit, found } from '../support/audit.js';
import { wipeStore } from '../support/ceph.js';
import { CephCloud, bucketName } from '../support/cloud.js';
import { freshCloudStackDb } from '../support/database.js';

const ceph = inject('ceph');

describe.each([
  { schema: '4.19' as const, admin: 'system' as const },
  { schema: '4.21' as const, admin: 'plain' as const },
  { schema: '4.21' as const, admin: 'system' as const },
])('audit of a live Ceph RGW (CloudStack $schema, $admin admin)', ({ schema, admin }) => {
  let cloud: CephCloud;
  const adminKeys = admin === 'system' ? ceph.systemAdmin : ceph.plainAdmin;

  beforeEach(async () => {
    await wipeStore(ceph.conf);
    cloud = new CephCloud(ceph, await freshCloudStackDb(schema));
  });
  afterEach(() => cloud.close());

  it('finds nothing when CloudStack and the store agree', async () => {
    // Prepare
    const store = await cloud.store('ceph-1', adminKeys);
    const alice = await cloud.account('alice');
    const web = await cloud.project('web');
    await cloud.bucket(bucketName('photos'), store, alice);
    await cloud.bucket(bucketName('site'), store, web);
    const cleanlyDeleted = bucketName('deleted');
    await cloud.seed.bucket({ name: cleanlyDeleted, store, account: alice, removed: hoursAgo(5) });

    // Act
    const report = await audit(cloud.database);

    // Assert
    expect(report.status).toBe('in_sync');
    expect(report.findings).toEqual([]);
    expect(report.cloudstack.schema).toBe(schema);
    expect(report.coverage).toMatchObject([{ status: 'verified', bucketsInDb: 2, bucketsInStore: 2 }]);
    expect(exitCode(report, 'low')).toBe(0);
  });

  it('reports each planted drift once, with the right rule, store, bucket and owner', async () => {
    // Prepare
    const store = await cloud.store('ceph-1', adminKeys);
    const alice = await cloud.account('alice');
    const web = await cloud.project('web');
    const bob = await cloud.account('bob', { removed: hoursAgo(24) });
    const names = {
      inSync: bucketName('photos'),
      missing: bucketName('gone'),
      unmanaged: bucketName('rogue'),
      removedButPresent: bucketName('zombie'),
      stuck: bucketName('half'),
      duplicate: bucketName('twice'),
      orphan: bucketName('orphan'),
      young: bucketName('young'),
      moved: bucketName('moved'),
    };
    await cloud.bucket(names.inSync, store, web);
    await cloud.bucketDeletedInStore(names.missing, store, alice); // behind CloudStack's back
    await cloud.createInStore(names.unmanaged, alice.keys);
    await cloud.bucket(names.removedButPresent, store, alice, { removed: hoursAgo(2) });
    await cloud.seed.bucket({
      name: names.stuck,
      store,
      account: alice,
      state: 'Allocated',
      created: hoursAgo(3),
    });
    await cloud.bucket(names.duplicate, store, alice);
    await cloud.seed.bucket({ name: names.duplicate, store, account: alice });
    await cloud.bucket(names.orphan, store, bob);
    await cloud.seed.bucket({ name: names.young, store, account: alice, created: hoursAgo(0.1) }); // within the grace period
    // Created before the store moved to its current address: CloudStack never rewrites bucket_url.
    const oldUrl = `http://rgw-old.internal:7480/${names.moved}`;
    await cloud.bucket(names.moved, store, alice, { bucketUrl: oldUrl });

    // Act
    const report = await audit(cloud.database);

    // Assert
    expect(found(report)).toEqual(
      [
        `bucket-account-removed ${names.orphan}`,
        `bucket-duplicate-name ${names.duplicate}`,
        `bucket-missing-in-store ${names.missing}`,
        `bucket-removed-but-present ${names.removedButPresent}`,
        `bucket-stuck-allocated ${names.stuck}`,
        `bucket-unmanaged-in-store ${names.unmanaged}`,
        `bucket-url-stale ${names.moved}`,
        // Bob's account is removed, but his RGW user, its key and his bucket are not.
        'store-user-orphaned -',
      ].sort(),
    );
    expect(report.findings.find((f) => f.rule === 'store-user-orphaned')?.evidence).toMatchObject({
      user: bob.uuid,
      buckets: [names.orphan],
    });
    expect(report.status).toBe('drift');
    expect(exitCode(report, 'low')).toBe(1);
    const missing = report.findings.find((f) => f.rule === 'bucket-missing-in-store');
    expect(missing).toMatchObject({
      severity: 'high',
      status: 'new',
      store: { id: store.id, uuid: store.uuid, name: 'ceph-1', provider: 'Ceph', endpoint: ceph.endpoint },
      owner: { accountUuid: alice.uuid, accountName: 'alice', domainPath: '/' },
      evidence: { headBucket: { result: 'absent' } },
    });
    expect(missing?.remediation.steps.join('\n')).toContain(`cmk delete bucket id=`);
    const unmanaged = report.findings.find((f) => f.rule === 'bucket-unmanaged-in-store');
    expect(unmanaged?.evidence.storeOwner).toBe(alice.uuid);
    expect(report.findings.find((f) => f.rule === 'bucket-url-stale')).toMatchObject({
      severity: 'low',
      evidence: {
        bucketUrl: oldUrl,
        storeUrl: ceph.endpoint.replace(/\/$/, ''),
        expected: `${ceph.endpoint.replace(/\/$/, '')}/${names.moved}`,
      },
    });
    const orphan = report.findings.find((f) => f.rule === 'bucket-account-removed');
    expect(orphan?.owner?.accountName).toBe('bob');
  });

  it('names the project of a project-owned bucket', async () => {
    const store = await cloud.store('ceph-1', adminKeys);
    const web = await cloud.project('web');
    const gone = bucketName('gone');
    await cloud.bucketDeletedInStore(gone, store, web);

    const report = await audit(cloud.database);

    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]?.owner).toMatchObject({ projectName: 'web', accountUuid: web.uuid });
    expect(report.findings[0]?.remediation.steps.join('\n')).toContain(
      `cmk update resourcecount domainid=${web.domain.uuid} projectid=${web.projectUuid}`,
    );
  });
});
