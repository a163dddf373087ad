import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { exitCode } from '../../functions/core/report.js';
import type { Report } from '../../functions/core/report.js';
import { audit, found } from '../support/audit.js';
import { wipeBuckets } from '../support/ceph.js';
import { CephCloud, bucketName } from '../support/cloud.js';
import { freshCloudStackDb } from '../support/database.js';
import type { Fault, FaultPlan } from '../support/fault-proxy.js';
import { FaultProxy, faults } from '../support/fault-proxy.js';

const ceph = inject('ceph');

const isListing = (url = '') => url.startsWith('/admin/bucket');
const always =
  (fault: Fault, when: (url?: string, method?: string) => boolean = () => true): FaultPlan =>
  (req) =>
    when(req.url, req.method) ? fault : null;

function expectUnverifiedOnly(report: Report, status: string): void {
  expect(report.status).toBe('incomplete');
  expect(exitCode(report, 'low')).toBe(2);
  expect(report.coverage[0]?.status).toBe(status);
  expect(report.coverage[0]?.checks['bucket-missing-in-store']).toBe('unverified');
  expect(found(report)).toEqual(['store-unverified -']);
}

describe('a store that fails is never evidence of drift', () => {
  let cloud: CephCloud;
  let proxy: FaultProxy;

  /** One store behind the proxy with a drift of each loud kind planted, so a false verdict would show. */
  async function plant(admin = ceph.systemAdmin) {
    const store = await cloud.store('ceph-behind-proxy', admin, proxy.endpoint);
    const alice = await cloud.account('alice');
    await cloud.bucket(bucketName('kept'), store, alice);
    const missing = bucketName('gone');
    await cloud.bucket(missing, store, alice);
    await cloud.deleteInStore(missing, alice.keys);
    const unmanaged = bucketName('rogue');
    await cloud.createInStore(unmanaged, alice.keys);
    return { store, missing, unmanaged };
  }

  beforeEach(async () => {
    await wipeBuckets(ceph.conf);
    cloud = new CephCloud(ceph, await freshCloudStackDb('4.21'));
    proxy = await new FaultProxy(ceph.endpoint).start();
  });
  afterEach(async () => {
    await proxy.stop();
    await cloud.close();
  });

  it('passes through untouched: the planted drift is found (the control case)', async () => {
    const { missing, unmanaged } = await plant();
    const report = await audit(cloud.database);
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('a stopped store is unreachable', async () => {
    await plant();
    await proxy.stop();
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'unreachable');
    expect(report.coverage[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('a wrong secret key is auth_failed', async () => {
    await plant({ ...ceph.systemAdmin, secretKey: 'not-the-right-secret-0000000000000000000' });
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'auth_failed');
  });

  it('an unknown access key is auth_failed', async () => {
    await plant({ accessKey: 'NOSUCHACCESSKEY00000', secretKey: ceph.systemAdmin.secretKey });
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'auth_failed');
  });

  it.each([
    ['503 SlowDown on every request', faults.slowDown, 'unreachable'],
    ['500 on every request', faults.internalError, 'unreachable'],
    ['a listing that never answers', faults.hang, 'unreachable'],
    ['a connection reset on the listing', faults.reset, 'unreachable'],
    ['a listing cut short', faults.truncate, 'partial'],
  ] as const)('%s gives store-unverified, and retries first', async (_label, fault, status) => {
    await plant();
    proxy.plan = always(fault, isListing);
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, status);
    expect(proxy.requests.filter((r) => isListing(r.url)).length).toBe(2); // maxAttempts in the test config
  });

  it.each([
    ['refused (403)', faults.accessDenied],
    ['throttled', faults.slowDown],
    ['hanging', faults.hang],
  ] as const)('a HeadBucket that is %s leaves the absence unconfirmed: partial', async (_label, fault) => {
    await plant();
    proxy.plan = always(fault, (_url, method) => method === 'HEAD');
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'partial');
    expect(report.coverage[0]?.error).toMatch(/could not confirm the absence/);
  });

  it('recovers from a transient throttle without losing the verdict', async () => {
    const { missing, unmanaged } = await plant();
    proxy.plan = (req, index) => (index === 0 && isListing(req.url) ? faults.slowDown : null);
    const report = await audit(cloud.database);
    expect(report.status).toBe('drift');
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
    expect(report.coverage[0]?.evidence.requests).toBeGreaterThanOrEqual(3); // retried listing + HeadBucket
  });
});

describe('the generic S3 adapter against a real S3 server', () => {
  let cloud: CephCloud;
  let proxy: FaultProxy;
  beforeEach(async () => {
    await wipeBuckets(ceph.conf);
    cloud = new CephCloud(ceph, await freshCloudStackDb('4.19'));
    proxy = await new FaultProxy(ceph.endpoint).start();
  });
  afterEach(async () => {
    await proxy.stop();
    await cloud.close();
  });

  /** As on MinIO, the admin owns the buckets its ListBuckets shows. */
  async function plantOwnedByAdmin() {
    const store = await cloud.seed.store({
      name: 'generic-1',
      provider: 'SeaweedFS',
      url: proxy.endpoint,
      ...ceph.systemAdmin,
    });
    const alice = await cloud.account('alice');
    const admin = { ...alice, keys: ceph.systemAdmin };
    await cloud.bucket(bucketName('kept'), store, admin);
    const missing = bucketName('gone');
    await cloud.bucket(missing, store, admin);
    await cloud.deleteInStore(missing, ceph.systemAdmin);
    const unmanaged = bucketName('rogue');
    await cloud.createInStore(unmanaged, ceph.systemAdmin);
    return { missing, unmanaged };
  }

  it('lists with ListBuckets and confirms with HeadBucket', async () => {
    const { missing, unmanaged } = await plantOwnedByAdmin();
    const report = await audit(cloud.database);
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('a ListBuckets body cut short is partial', async () => {
    await plantOwnedByAdmin();
    proxy.plan = always(faults.truncate, (url, method) => method === 'GET' && url?.split('?')[0] === '/');
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'partial');
  });

  it('a listing that omits a bucket HeadBucket finds is not trusted', async () => {
    // RGW's ListBuckets shows only the caller's own buckets: a bucket another user owns is left out.
    await plantOwnedByAdmin();
    const bob = await cloud.account('bob');
    const store = { id: 1, uuid: '', name: 'generic-1' };
    await cloud.bucket(bucketName('bobs'), store, bob);
    const report = await audit(cloud.database);
    expectUnverifiedOnly(report, 'partial');
    expect(report.coverage[0]?.error).toMatch(/listing omitted 1 bucket/);
  });
});
