import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { exitCode } from '../../functions/core/report.js';
import type { Report } from '../../functions/core/report.js';
import { FAST_SCAN, audit, found } from '../support/audit.js';
import type { CephCloud } from '../support/cloud.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';
import type { Fault, FaultPlan } from '../support/fault-proxy.js';
import { FaultProxy, faults } from '../support/fault-proxy.js';

const ceph = inject('ceph');

/** A fresh database and a fault proxy in front of the shared RGW for every test of the block. */
function cloudBehindProxy(schema: '4.19' | '4.21'): { cloud: CephCloud; proxy: FaultProxy } {
  const perTest = cephCloudPerTest(schema);
  const ctx = {} as { cloud: CephCloud; proxy: FaultProxy };
  beforeEach(async () => {
    ctx.cloud = perTest.cloud;
    ctx.proxy = await new FaultProxy(ceph.endpoint).start();
  });
  afterEach(() => ctx.proxy.stop());
  return ctx;
}

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
  const ctx = cloudBehindProxy('4.21');

  /** One store behind the proxy with a drift of each loud kind planted, so a false verdict would show. */
  async function plant(admin = ceph.systemAdmin) {
    const store = await ctx.cloud.store('ceph-behind-proxy', admin, ctx.proxy.endpoint);
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.bucket(bucketName('kept'), store, alice);
    const missing = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(missing, store, alice);
    const unmanaged = bucketName('rogue');
    await ctx.cloud.createInStore(unmanaged, alice.keys);
    return { store, missing, unmanaged };
  }

  it('passes through untouched: the planted drift is found (the control case)', async () => {
    const { missing, unmanaged } = await plant();
    const report = await audit(ctx.cloud.database);
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('a stopped store is unreachable', async () => {
    await plant();
    await ctx.proxy.stop();
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'unreachable');
    expect(report.coverage[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('a wrong secret key is auth_failed', async () => {
    await plant({ ...ceph.systemAdmin, secretKey: 'not-the-right-secret-0000000000000000000' });
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'auth_failed');
  });

  it('an unknown access key is auth_failed', async () => {
    await plant({ accessKey: 'NOSUCHACCESSKEY00000', secretKey: ceph.systemAdmin.secretKey });
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'auth_failed');
  });

  it.each([
    ['503 SlowDown on every request', faults.slowDown, 'unreachable'],
    ['500 on every request', faults.internalError, 'unreachable'],
    ['a listing that never answers', faults.hang, 'unreachable'],
    ['a connection reset on the listing', faults.reset, 'unreachable'],
    ['a listing cut short', faults.truncate, 'partial'],
    ['a listing that stalls half-way', faults.stall, 'unreachable'],
  ] as const)('%s gives store-unverified, and retries first', async (_label, fault, status) => {
    await plant();
    ctx.proxy.plan = always(fault, isListing);
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, status);
    // Each user's listing is tried maxAttempts (2 in the test config) times, and never more.
    const tries = new Map<string, number>();
    for (const r of ctx.proxy.requests.filter((r) => isListing(r.url)))
      tries.set(r.url, (tries.get(r.url) ?? 0) + 1);
    expect(Math.max(...tries.values())).toBe(2);
  });

  it('a listing slower in total than the request timeout, but never silent that long, is read whole', async () => {
    const { missing, unmanaged } = await plant();
    const timeout = FAST_SCAN.requestTimeoutMs;
    ctx.proxy.plan = always({ kind: 'trickle', pieces: 5, ms: Math.round(timeout * 0.4) }, isListing);

    const started = Date.now();
    const report = await audit(ctx.cloud.database);

    expect(Date.now() - started).toBeGreaterThan(timeout * 1.5); // a 10 s deadline would have cut a large store's listing
    expect(report.coverage[0]?.status).toBe('verified');
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('a listing that starts later than the request timeout, within the wait its store size allows, is read', async () => {
    const { store, missing, unmanaged } = await plant();
    // 1,000 more rows CloudStack is still creating: they lengthen the wait (3 ms a bucket), no finding.
    const alice = await ctx.cloud.account('alice2');
    const rows = Array.from({ length: 1000 }, (_, i) => [
      bucketName(`creating${i}`),
      String(store.id),
      'Allocated',
      `uuid-creating-${i}`,
      alice.domain.id,
      alice.id,
      new Date(),
    ]);
    await ctx.cloud.database.conn.query(
      'INSERT INTO bucket (name, object_store_id, state, uuid, domain_id, account_id, created) VALUES ?',
      [rows],
    );
    const timeout = FAST_SCAN.requestTimeoutMs;
    ctx.proxy.plan = always({ kind: 'slow', ms: timeout + 1000 }, isListing);

    const report = await audit(ctx.cloud.database);

    expect(report.coverage[0]?.status).toBe('verified');
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('an attribute read that stalls half-way is unverified: never a hang, never a mismatch', async () => {
    const { missing, unmanaged } = await plant(ceph.listingAdmin); // no metadata cap: S3 reads versioning
    const versioningRead = (url = '', method = '') => method === 'GET' && /[?&]versioning/.test(url);
    ctx.proxy.plan = always(faults.stall, versioningRead);

    const report = await audit(ctx.cloud.database);

    expect(ctx.proxy.requests.some((r) => versioningRead(r.url, r.method))).toBe(true);
    expect(report.status).toBe('incomplete');
    expect(report.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('unverified');
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it.each([
    ['refused (403)', faults.accessDenied],
    ['throttled', faults.slowDown],
    ['hanging', faults.hang],
  ] as const)('a HeadBucket that is %s leaves the absence unconfirmed: partial', async (_label, fault) => {
    await plant();
    ctx.proxy.plan = always(fault, (_url, method) => method === 'HEAD');
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'partial');
    expect(report.coverage[0]?.error).toMatch(/could not confirm the absence/);
  });

  it('recovers from a transient throttle without losing the verdict', async () => {
    const { missing, unmanaged } = await plant();
    ctx.proxy.plan = (req, index) => (index === 0 && isListing(req.url) ? faults.slowDown : null);
    const report = await audit(ctx.cloud.database);
    expect(report.status).toBe('drift');
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
    expect(report.coverage[0]?.evidence.requests).toBeGreaterThanOrEqual(3); // retried listing + HeadBucket
  });
});

describe('the generic S3 adapter against a real S3 server', () => {
  const ctx = cloudBehindProxy('4.19');

  /** As on MinIO, the admin owns the buckets its ListBuckets shows. */
  async function plantOwnedByAdmin() {
    const store = await ctx.cloud.seed.store({
      name: 'generic-1',
      provider: 'SeaweedFS',
      url: ctx.proxy.endpoint,
      ...ceph.systemAdmin,
    });
    const alice = await ctx.cloud.account('alice');
    const admin = { ...alice, keys: ceph.systemAdmin };
    await ctx.cloud.bucket(bucketName('kept'), store, admin);
    const missing = bucketName('gone');
    await ctx.cloud.bucket(missing, store, admin);
    await ctx.cloud.deleteInStore(missing, ceph.systemAdmin);
    const unmanaged = bucketName('rogue');
    await ctx.cloud.createInStore(unmanaged, ceph.systemAdmin);
    return { store, missing, unmanaged };
  }

  it('lists with ListBuckets and confirms with HeadBucket', async () => {
    const { missing, unmanaged } = await plantOwnedByAdmin();
    const report = await audit(ctx.cloud.database);
    expect(found(report)).toEqual([
      `bucket-missing-in-store ${missing}`,
      `bucket-unmanaged-in-store ${unmanaged}`,
    ]);
  });

  it('a ListBuckets body cut short is partial', async () => {
    await plantOwnedByAdmin();
    ctx.proxy.plan = always(faults.truncate, (url, method) => method === 'GET' && url?.split('?')[0] === '/');
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'partial');
  });

  it('a listing that omits a bucket HeadBucket finds is not trusted', async () => {
    // RGW's ListBuckets shows only the caller's own buckets: a bucket another user owns is left out.
    const { store } = await plantOwnedByAdmin();
    const bob = await ctx.cloud.account('bob');
    await ctx.cloud.bucket(bucketName('bobs'), store, bob);
    const report = await audit(ctx.cloud.database);
    expectUnverifiedOnly(report, 'partial');
    expect(report.coverage[0]?.error).toMatch(/listing omitted 1 bucket/);
  });
});
