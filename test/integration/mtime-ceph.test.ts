// Which changes to a bucket move its listing identity on a live RGW (bucket id and mtime, what
// `GET /admin/bucket?uid=…&stats=true` shows): scan.incremental skips a bucket's attribute reads only
// for the attributes the identity is proved here to cover (cephRgwAdapter.identity.covers). Every
// other attribute is read every night, or comes from the listing itself (owner, usage, quota).
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BucketAttribute, StoreBucket } from '../../functions/core/model.js';
import { cephRgwAdapter } from '../../functions/stores/ceph-rgw.js';
import type { StoreConnection } from '../../functions/stores/adapter.js';
import { FAST_SCAN } from '../support/audit.js';
import { createRgwUser, radosgwAdmin, wipeStore } from '../support/ceph.js';
import type { Keys } from '../support/ceph.js';
import { bucketName, s3For } from '../support/cloud.js';

const ceph = inject('ceph');

describe("what moves a Ceph bucket's listing identity (bucket id and mtime)", () => {
  let connection: StoreConnection;
  let owner: Keys;
  let other: string;
  const identity = cephRgwAdapter.identity;
  if (!identity) throw new Error('the Ceph adapter declares no listing identity');

  beforeAll(async () => {
    await wipeStore(ceph.conf);
    owner = await createRgwUser(ceph.conf, 'mtime-owner', 'mtime owner');
    other = 'mtime-other';
    await createRgwUser(ceph.conf, other, 'mtime other');
    connection = cephRgwAdapter.connect(
      {
        id: 1,
        uuid: 'mtime',
        name: 'mtime',
        provider: 'Ceph',
        skip: false,
        endpoint: ceph.endpoint,
        credentials: ceph.systemAdmin,
      },
      { ...FAST_SCAN, keepAlive: false, maxBuckets: 1000, maxBodyMiB: 16, retryBaseDelayMs: 10 },
    );
  });
  afterAll(async () => {
    connection.close();
    await wipeStore(ceph.conf);
  });

  async function listed(name: string): Promise<StoreBucket> {
    const bucket = await connection.lookUpBucket?.(name);
    if (!bucket) throw new Error(`${name}: not found`);
    return bucket;
  }

  /** The bucket's identity before and after `change`, a second apart (RGW's mtime has sub-second digits). */
  async function identityAcross(change: (name: string) => Promise<unknown>, lock = false) {
    const name = bucketName('mtime');
    await s3For(ceph.endpoint, owner).send(
      new CreateBucketCommand({ Bucket: name, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }),
    );
    const before = await listed(name);
    await new Promise((r) => setTimeout(r, 1100));
    const outcome = await change(name).then(
      () => 'changed',
      (err: Error) => `refused: ${err.name}`,
    );
    const after = await listed(name);
    return { before: identity?.of(before), after: identity?.of(after), outcome, listedAfter: after };
  }

  const s3 = () => s3For(ceph.endpoint, owner);
  const declared = (attribute: BucketAttribute) => identity.covers.includes(attribute);

  /** Asserts the change was made and moved the identity. */
  function moved(r: { before?: string; after?: string; outcome: string }) {
    expect(r.outcome).toBe('changed');
    expect(r.before).toBeDefined();
    expect(r.after).toBeDefined();
    expect(r.after).not.toBe(r.before);
  }

  it('versioning: turning it on and suspending it each move it', async () => {
    const versioning = (Status: 'Enabled' | 'Suspended') => (Bucket: string) =>
      s3().send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));
    moved(await identityAcross(versioning('Enabled')));
    moved(
      await identityAcross(async (Bucket) => {
        await versioning('Enabled')(Bucket);
        const enabled = identity.of(await listed(Bucket));
        await new Promise((r) => setTimeout(r, 1100));
        await versioning('Suspended')(Bucket);
        expect(identity.of(await listed(Bucket))).not.toBe(enabled);
      }),
    );
    expect(declared('versioning')).toBe(true);
  });

  it('policy: putting and deleting a bucket policy each move it', async () => {
    const put = (Bucket: string) =>
      s3().send(
        new PutBucketPolicyCommand({
          Bucket,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: '*',
                Action: ['s3:GetObject'],
                Resource: [`arn:aws:s3:::${Bucket}/*`],
              },
            ],
          }),
        }),
      );
    moved(await identityAcross(put));
    moved(
      await identityAcross(async (Bucket) => {
        await put(Bucket);
        const withPolicy = identity.of(await listed(Bucket));
        await new Promise((r) => setTimeout(r, 1100));
        await s3().send(new DeleteBucketPolicyCommand({ Bucket }));
        expect(identity.of(await listed(Bucket))).not.toBe(withPolicy);
      }),
    );
    expect(declared('policy')).toBe(true);
  });

  it('object lock: only a new bucket turns it on (a new id); its retention moves the mtime', async () => {
    const later = await identityAcross((Bucket) =>
      s3().send(
        new PutObjectLockConfigurationCommand({
          Bucket,
          ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },
        }),
      ),
    );
    expect(later.outcome).toBe('refused: InvalidBucketState');
    expect(later.after).toBe(later.before);
    moved(
      await identityAcross(
        (Bucket) =>
          s3().send(
            new PutObjectLockConfigurationCommand({
              Bucket,
              ObjectLockConfiguration: {
                ObjectLockEnabled: 'Enabled',
                Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
              },
            }),
          ),
        true,
      ),
    );
    expect(declared('objectLock')).toBe(true);
  });

  it('a bucket deleted and made again under its name has a new id', async () => {
    const again = await identityAcross(async (Bucket) => {
      await s3().send(new DeleteBucketCommand({ Bucket }));
      await s3().send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    });
    moved(again);
    expect(again.after?.split('@')[0]).not.toBe(again.before?.split('@')[0]);
  });

  it('quota and owner move it too, though the listing itself carries both every night', async () => {
    const quota = await identityAcross(async (Bucket) => {
      await radosgwAdmin(ceph.conf, [
        'quota',
        'set',
        '--quota-scope=bucket',
        `--bucket=${Bucket}`,
        '--max-size=1048576',
      ]);
      await radosgwAdmin(ceph.conf, ['quota', 'enable', '--quota-scope=bucket', `--bucket=${Bucket}`]);
    });
    moved(quota);
    expect(quota.listedAfter.quota).toBe(1048576);
    const owner = await identityAcross(async (Bucket) => {
      await radosgwAdmin(ceph.conf, ['bucket', 'link', `--bucket=${Bucket}`, `--uid=${other}`]);
      await radosgwAdmin(ceph.conf, ['bucket', 'chown', `--bucket=${Bucket}`, `--uid=${other}`]);
    });
    moved(owner);
    expect(owner.listedAfter.owner).toBe(other);
    // Read from the listing, never kept from an earlier night.
    expect(declared('owner') || declared('quota') || declared('usage')).toBe(false);
  });

  it('encryption: refused by this RGW (no KMS), and not a Ceph attribute in CloudStack', async () => {
    const changed = await identityAcross((Bucket) =>
      s3().send(
        new PutBucketEncryptionCommand({
          Bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
        }),
      ),
    );
    expect(changed.outcome).toBe('refused: InvalidArgument');
    expect(changed.after).toBe(changed.before);
    expect(cephRgwAdapter.capabilities).not.toContain('encryption');
    expect(declared('encryption')).toBe(false);
  });

  it('covers every attribute the adapter reads bucket by bucket', () => {
    const fromListing: BucketAttribute[] = ['owner', 'usage', 'quota'];
    expect([...identity.covers].sort()).toEqual(
      cephRgwAdapter.capabilities.filter((a) => !fromListing.includes(a)).sort(),
    );
  });
});
