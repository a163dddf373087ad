import * as z from 'zod';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { AdminApiClient, AdminApiError } from '../../functions/stores/admin-api.js';
import { CountingHttpHandler } from '../../functions/stores/http.js';
import { IN_PROCESS_MINIO, audit } from '../support/audit.js';
import { bucketName } from '../support/cloud.js';
import { MinioStandin } from '../support/minio-standin.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const GIB = 1024 ** 3;

describe('the MinIO adapter against a MinIO-shaped admin API (S3 served by the live RGW)', () => {
  const ctx = cephCloudPerTest('4.21');
  let minio: MinioStandin;

  beforeEach(async () => {
    minio = await new MinioStandin(ceph.endpoint, ceph.systemAdmin).start();
  });
  afterEach(() => minio.stop());

  /** A MinIO store whose root keys are the RGW admin's: the admin owns every bucket, as MinIO's root sees all. */
  async function minioCloud() {
    const { cloud } = ctx;
    const store = await cloud.seed.store({
      name: 'minio-1',
      provider: 'MinIO',
      url: minio.endpoint,
      ...ceph.systemAdmin,
    });
    const alice = await cloud.seed.account('alice', await cloud.rootDomain());
    const bob = await cloud.seed.account('bob', await cloud.rootDomain());
    const make = async (name: string, owner: typeof alice, row: Record<string, unknown> = {}) => {
      await cloud.createInStore(name, ceph.systemAdmin);
      await cloud.seed.bucket({ name, store, account: owner, accessKey: `acs-${owner.uuid}`, ...row });
    };
    return { store, alice, bob, make };
  }

  it('reports owner, quota and usage drift through the admin API, and nothing for buckets in sync', async () => {
    // Prepare
    const { store, alice, bob, make } = await minioCloud();
    const n = {
      ok: bucketName('ok'),
      bobsInAlicesPolicy: bucketName('moved'),
      noQuota: bucketName('noquota'),
      grown: bucketName('grown'),
      deleted: bucketName('deleted'),
    };
    await make(n.ok, alice, { quota: 2, size: 5 * 1024 ** 2 });
    await make(n.bobsInAlicesPolicy, bob);
    await make(n.noQuota, alice, { quota: 1 });
    await make(n.grown, alice, { size: 0 });
    await ctx.cloud.seed.bucket({ name: n.deleted, store, account: alice, removed: hoursAgo(30) });
    minio.state.quotas.set(n.ok, 2 * GIB);
    minio.state.usage.set(n.ok, { size: 5 * 1024 ** 2, objectsCount: 3 });
    minio.state.usage.set(n.bobsInAlicesPolicy, { size: 0, objectsCount: 0 });
    minio.state.usage.set(n.noQuota, { size: 0, objectsCount: 0 });
    minio.state.usage.set(n.grown, { size: 900 * 1024 ** 2, objectsCount: 12 });
    minio.state.users.set(`acs-${alice.uuid}`, [`acs-${alice.uuid}-policy`]);
    minio.state.users.set(`acs-${bob.uuid}`, [`acs-${bob.uuid}-policy`]);
    minio.state.policies.set(
      `acs-${alice.uuid}-policy`,
      MinioStandin.accountPolicy([n.ok, n.noQuota, n.grown, n.bobsInAlicesPolicy, n.deleted]),
    );
    minio.state.policies.set(`acs-${bob.uuid}-policy`, MinioStandin.accountPolicy([]));
    minio.state.policies.set('readwrite', {
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*' }],
    });

    // Act
    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO);

    // Assert
    expect(report.findings.map((f) => `${f.rule} ${f.bucket} ${f.attribute}`).sort()).toEqual(
      [
        `bucket-owner-mismatch ${n.bobsInAlicesPolicy} owner`,
        `bucket-owner-mismatch ${n.deleted} accountPolicy`,
        `bucket-quota-mismatch ${n.noQuota} quota`,
        `bucket-usage-drift ${n.grown} usage`,
      ].sort(),
    );
    const moved = report.findings.find((f) => f.bucket === n.bobsInAlicesPolicy);
    expect(moved?.evidence.problems).toEqual([
      `the account's canned policy acs-${bob.uuid}-policy does not grant it`,
      `other accounts' policies grant it too (acs-${alice.uuid}-policy)`,
    ]);
    expect(report.findings.find((f) => f.bucket === n.deleted)?.message).toContain('apache/cloudstack#12173');
    expect(report.findings.find((f) => f.bucket === n.noQuota)).toMatchObject({ expected: 1, actual: null });
    expect(report.findings.find((f) => f.bucket === n.grown)?.evidence.storeUsageAt).toBe(
      minio.state.usageLastUpdate,
    );
    const coverage = report.coverage[0];
    // RGW, serving this stand-in's S3, answers GetBucketEncryption with a listing: never read as "encrypted".
    const { 'bucket-encryption-mismatch': encryption, ...others } = coverage?.checks ?? {};
    expect(
      Object.values(others).every((c) => c === 'verified'),
      JSON.stringify(coverage?.evidence.checkNotes),
    ).toBe(true);
    expect(encryption).toBe('unverified');
    expect(coverage?.evidence.checkNotes?.['bucket-encryption-mismatch']).toMatch(
      /where <ServerSideEncryptionConfiguration> was due/,
    );
    expect(minio.adminCalls.every((c) => c.status !== 403)).toBe(true);
    // datausageinfo and list-canned-policies once per store, a quota per bucket, a user per account.
    const calls = minio.adminCalls.map((c) => c.path);
    expect(calls.filter((c) => c === 'datausageinfo')).toHaveLength(1);
    expect(calls.filter((c) => c === 'list-canned-policies')).toHaveLength(1);
    expect(calls.filter((c) => c === 'get-bucket-quota')).toHaveLength(4);
    expect(calls.filter((c) => c === 'user-info')).toHaveLength(2);
    // The key rules add list-users, list-access-keys-bulk and groups (no group here), once per store.
    expect(calls.filter((c) => c === 'list-users')).toHaveLength(1);
    expect(coverage?.evidence.requests).toBeLessThanOrEqual(1 + 5 * 4 + 2 + 2 + 3);
  });

  it('accepts an account user named the pre-2024 way (acs-<account name>)', async () => {
    const { alice, make } = await minioCloud();
    const name = bucketName('legacy');
    await make(name, alice);
    await ctx.cloud.database.conn.query('UPDATE bucket SET access_key = ? WHERE name = ?', [
      'acs-alice',
      name,
    ]);
    minio.state.usage.set(name, { size: 0, objectsCount: 0 });
    minio.state.users.set('acs-alice', ['acs-alice-policy']);
    minio.state.policies.set('acs-alice-policy', MinioStandin.accountPolicy([name]));

    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO, { rules: ['bucket-owner-mismatch'] });

    expect(report.findings).toEqual([]);
    expect(report.coverage[0]?.checks['bucket-owner-mismatch']).toBe('verified');
  });

  it('turns an admin API error into unverified for that check, never into a mismatch', async () => {
    const { alice, make } = await minioCloud();
    const name = bucketName('q');
    await make(name, alice, { quota: 3 }); // the store has no quota: drift, were it readable
    minio.state.usage.set(name, { size: 0, objectsCount: 0 });
    minio.failing['get-bucket-quota'] = 500;

    const report = await audit(
      ctx.cloud.database,
      {},
      { rules: ['bucket-quota-mismatch', 'bucket-usage-drift'] },
    );

    expect(report.findings).toEqual([]);
    expect(report.status).toBe('incomplete');
    expect(report.coverage[0]?.checks).toEqual({
      'bucket-quota-mismatch': 'unverified',
      'bucket-usage-drift': 'verified',
    });
    expect(report.coverage[0]?.evidence.checkNotes?.['bucket-quota-mismatch']).toMatch(
      new RegExp(`${name}: AdminApiError \\(HTTP 500\\).*XMinioAdminInternalError`),
    );
  });

  it('is refused by the admin API when the signature does not verify', async () => {
    const options = { concurrency: 1, requestTimeoutMs: 2000, maxAttempts: 1, retryBaseDelayMs: 5 };
    const handler = new CountingHttpHandler(options);
    const target = (secretKey: string) => ({
      id: 1,
      uuid: 'u',
      name: 'minio-1',
      provider: 'MinIO',
      endpoint: minio.endpoint,
      credentials: { accessKey: ceph.systemAdmin.accessKey, secretKey },
      skip: false,
    });
    try {
      const good = new AdminApiClient(
        target(ceph.systemAdmin.secretKey),
        handler,
        options,
        '/minio/admin/v3',
      );
      const bad = new AdminApiClient(target('not-the-secret'), handler, options, '/minio/admin/v3');

      const anyMap = z.record(z.string(), z.unknown());
      await expect(good.get('list-canned-policies', {}, anyMap)).resolves.toEqual({});
      const refused = await bad.get('list-canned-policies', {}, anyMap).catch((e: unknown) => e);

      expect(refused).toBeInstanceOf(AdminApiError);
      expect(refused).toMatchObject({
        storeCode: 'SignatureDoesNotMatch',
        code: 'store',
        $metadata: { httpStatusCode: 403 },
      });
      expect(String((refused as Error).message)).not.toContain('not-the-secret');
    } finally {
      handler.destroy();
    }
  });
});
