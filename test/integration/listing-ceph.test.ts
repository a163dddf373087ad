// A live RGW listed by owner (stores/rgw-listing.ts): the user pages, each user's buckets, and the
// bucket-name pages that prove no bucket was left out.
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { AdminApiClient } from '../../functions/stores/admin-api.js';
import { CountingHttpHandler } from '../../functions/stores/http.js';
import { metadataKeys } from '../../functions/stores/rgw-listing.js';
import { FAST_SCAN, audit, found } from '../support/audit.js';
import { radosgwAdmin } from '../support/ceph.js';
import { bucketName } from '../support/cloud.js';
import type { CephCloud } from '../support/cloud.js';
import type { FaultPlan } from '../support/fault-proxy.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const options = { ...FAST_SCAN, retryBaseDelayMs: 10 };

/** A proxy plan answering every user page with `body` instead of the RGW. */
const userPages =
  (body: string): FaultPlan =>
  (req) =>
    req.url?.startsWith('/admin/metadata/user')
      ? { kind: 'answer', status: 200, contentType: 'application/json', body }
      : null;

describe('a Ceph store listed by owner', () => {
  const perTest = cephCloudPerTest('4.21');
  let cloud: CephCloud;
  let proxy: FaultProxy;
  beforeEach(async () => {
    cloud = perTest.cloud;
    proxy = await new FaultProxy(ceph.endpoint).start();
  });
  afterEach(() => proxy.stop());

  async function plant() {
    const store = await cloud.store('ceph-by-owner', ceph.systemAdmin, proxy.endpoint);
    const alice = await cloud.account('alice');
    const bob = await cloud.account('bob');
    const kept = [bucketName('a1'), bucketName('a2'), bucketName('b1')];
    await cloud.bucket(kept[0] as string, store, alice);
    await cloud.bucket(kept[1] as string, store, alice);
    await cloud.bucket(kept[2] as string, store, bob);
    const rogue = bucketName('rogue');
    await cloud.createInStore(rogue, bob.keys);
    return { rogue };
  }

  it('reads the user and bucket-name listings page by page, every key once', async () => {
    await plant();
    const handler = new CountingHttpHandler(options);
    const target = {
      ...{ id: 1, uuid: 'pages', name: 'pages', provider: 'Ceph', skip: false },
      endpoint: ceph.endpoint,
      credentials: ceph.systemAdmin,
    };
    const admin = new AdminApiClient(target, handler, options, '/admin');
    try {
      const users = JSON.parse(await radosgwAdmin(ceph.conf, ['user', 'list'])) as string[];
      const buckets = JSON.parse(await radosgwAdmin(ceph.conf, ['bucket', 'list'])) as string[];
      const pagedUsers = await metadataKeys(admin, 'user', 1000, 2);
      const pagedBuckets = await metadataKeys(admin, 'bucket', 1000, 2);
      expect([...pagedUsers].sort()).toEqual([...users].sort());
      expect([...pagedBuckets].sort()).toEqual([...buckets].sort());
      // RGW may say a full last page is truncated: one empty page more, at most, per listing.
      const pages = Math.ceil(users.length / 2) + Math.ceil(buckets.length / 2);
      expect(handler.requests).toBeGreaterThanOrEqual(pages);
      expect(handler.requests).toBeLessThanOrEqual(pages + 2);
      await expect(metadataKeys(admin, 'user', 2, 2)).rejects.toThrow(/more than 2 keys/);
    } finally {
      handler.destroy();
    }
  });

  it('lists every user apart and finds the planted drift, one listing per user', async () => {
    const { rogue } = await plant();
    const report = await audit(cloud.database, {}, { rules: ['bucket-unmanaged-in-store'] });
    expect(found(report)).toEqual([`bucket-unmanaged-in-store ${rogue}`]);
    const uids = proxy.requests.filter((r) => r.url.startsWith('/admin/bucket?') && r.url.includes('uid='));
    const users = JSON.parse(await radosgwAdmin(ceph.conf, ['user', 'list'])) as string[];
    expect(uids).toHaveLength(users.length);
    expect(proxy.requests.some((r) => /^\/admin\/bucket\?(?!.*uid=)/.test(r.url))).toBe(false); // never the one-shot listing
  });

  it('a bucket whose owner the user listing lacks is looked up and listed, not lost', async () => {
    const { rogue } = await plant();
    // The user pages show only the admins: every account's bucket is known by its name alone.
    proxy.plan = userPages('{"keys":["auditadmin"],"truncated":"false","count":1}');
    const report = await audit(
      cloud.database,
      {},
      { rules: ['bucket-unmanaged-in-store', 'bucket-missing-in-store'] },
    );
    expect(report.coverage[0]?.status).toBe('verified');
    expect(found(report)).toEqual([`bucket-unmanaged-in-store ${rogue}`]);
    expect(proxy.requests.filter((r) => /^\/admin\/bucket\?bucket=/.test(r.url))).toHaveLength(4);
  });

  it('a user page that says it goes on but gives no marker is a listing cut short: partial', async () => {
    await plant();
    proxy.plan = userPages('{"keys":["auditadmin"],"truncated":"true","count":1}');
    const report = await audit(
      cloud.database,
      {},
      { rules: ['bucket-unmanaged-in-store', 'bucket-missing-in-store', 'store-unverified'] },
    );
    expect(report.status).toBe('incomplete');
    expect(report.coverage[0]?.status).toBe('partial');
    expect(report.coverage[0]?.error).toMatch(/gave no new marker/);
    expect(found(report)).toEqual(['store-unverified -']);
  });
});
