// A CloudStack row naming a bucket no store can have (`team/archive`: bucket.name is free text) on a
// live Ceph RGW: before, the SDK refused the request, the scan ended in an internal error and the
// whole store was skipped, its seed case unreported. Now that row gets its own finding and the
// store is verified, its seed case reported.
import { describe, expect, it } from 'vitest';
import { audit, found } from '../support/audit.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';

describe('a row is judged alone, on a live RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  it('a row named team/archive beside the seed case: the store is verified and both are reported', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    await ctx.cloud.seed.bucket({
      name: 'team/archive',
      store,
      account: alice,
      created: new Date(Date.now() - 86_400_000),
    });

    // Act
    const report = await audit(ctx.cloud.database);

    // Assert
    expect(report.coverage[0]?.status).toBe('verified');
    expect(found(report)).toEqual(
      [`bucket-missing-in-store ${gone}`, 'bucket-missing-in-store team/archive'].sort(),
    );
    const row = report.findings.find((f) => f.bucket === 'team/archive');
    expect(row?.message).toMatch(/under a name no store can have/);
  });
});
