// The key rules against the MinIO stand-in (MinIO cannot run here): its user and access-key listings
// come encrypted as madmin-go's EncryptData writes them (each of its three algorithms in turn), its
// groups and canned policies as plain JSON (madmin-go group-commands.go, policy-commands.go), and S3
// is the live RGW behind it. A healthy cloud stays silent; an answer that does not decrypt is no
// answer, never an empty user list.
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { IN_PROCESS_MINIO, audit, found } from '../support/audit.js';
import { bucketName } from '../support/cloud.js';
import { MINIO_POLICIES, MinioStandin } from '../support/minio-standin.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const KEY_RULES = ['bucket-credentials-stale', 'store-user-orphaned', 'store-admin-bypass'] as const;
describe('keys and principals on MinIO (the stand-in, S3 on the live RGW)', () => {
  const ctx = cephCloudPerTest('4.21');
  let minio: MinioStandin;

  beforeEach(async () => {
    minio = await new MinioStandin(ceph.endpoint, ceph.systemAdmin).start();
    for (const [name, policy] of Object.entries(MINIO_POLICIES)) minio.state.policies.set(name, policy);
  });
  afterEach(() => minio.stop());

  /** A MinIO cloud as CloudStack's driver makes it: user acs-<uuid> per account, its policy, its buckets. */
  async function minioCloud() {
    const { cloud } = ctx;
    const store = await cloud.seed.store({
      name: 'minio-1',
      provider: 'MinIO',
      url: minio.endpoint,
      ...ceph.systemAdmin,
    });
    const account = async (name: string, options: { removed?: Date } = {}) => {
      const a = await cloud.seed.account(name, await cloud.rootDomain(), options);
      minio.state.users.set(`acs-${a.uuid}`, [`acs-${a.uuid}-policy`]);
      minio.state.policies.set(`acs-${a.uuid}-policy`, MinioStandin.accountPolicy([]));
      return a;
    };
    const bucket = async (name: string, owner: { uuid: string }, row: Record<string, unknown> = {}) => {
      await cloud.createInStore(name, ceph.systemAdmin);
      minio.state.policies.set(`acs-${owner.uuid}-policy`, MinioStandin.accountPolicy([name]));
      await cloud.seed.bucket({
        name,
        store,
        account: owner as never,
        accessKey: `acs-${owner.uuid}`,
        ...row,
      });
    };
    return { store, account, bucket };
  }

  it('a healthy cloud: the encrypted listings are read, every key rule verified, nothing found', async () => {
    const { account, bucket } = await minioCloud();
    const alice = await account('alice');
    await bucket(bucketName('alice'), alice);

    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO);

    expect(found(report)).toEqual([]);
    for (const rule of KEY_RULES) expect(report.coverage[0]?.checks[rule]).toBe('verified');
    expect(minio.adminCalls.map((c) => c.path)).toEqual(
      expect.arrayContaining(['list-users', 'list-access-keys-bulk', 'groups', 'list-canned-policies']),
    );
  });

  it('reports the users that outlive their accounts, those that can delete any bucket, and a row showing a dead key', async () => {
    const { account, bucket } = await minioCloud();
    const alice = await account('alice');
    const carol = await account('carol', { removed: hoursAgo(48) });
    const bob = await account('bob');
    const kept = bucketName('kept');
    await ctx.cloud.createInStore(kept, ceph.systemAdmin);
    minio.state.policies.set(`acs-${carol.uuid}-policy`, MinioStandin.accountPolicy([kept]));
    // The old naming (before January 2024) of an account this CloudStack does not have.
    minio.state.users.set('acs-erin', []);
    // People and tools besides CloudStack.
    minio.state.users.set('ops', ['consoleAdmin']);
    minio.state.serviceAccounts.set('ops', [{ accessKey: 'OPSSERVICEKEY00017', accountStatus: 'on' }]);
    minio.state.users.set('backup', ['readwrite']);
    minio.state.users.set('auditor', []);
    minio.state.groups.set('admins', { members: ['auditor'], policies: ['readwrite'], status: 'enabled' });
    // Alice's bucket shows her service account's key: live. Bob's user is disabled: his bucket's key fails.
    minio.state.serviceAccounts.set(`acs-${alice.uuid}`, [
      { accessKey: 'ALICESVCKEY0000042', accountStatus: 'on' },
    ]);
    const viaService = bucketName('svc');
    await bucket(viaService, alice, { accessKey: 'ALICESVCKEY0000042' });
    const bobs = bucketName('bob');
    await bucket(bobs, bob);
    minio.state.disabledUsers.add(`acs-${bob.uuid}`);

    const report = await audit(ctx.cloud.database, {
      ...IN_PROCESS_MINIO,
      rules: { 'store-admin-bypass': { allowed: ['backup'] } },
    });

    const summary = report.findings
      .filter((f) => (KEY_RULES as readonly string[]).includes(f.rule))
      .map((f) => `${f.rule} ${String(f.evidence.user ?? f.evidence.principal ?? f.bucket)}`)
      .sort();
    expect(summary).toEqual(
      [
        `bucket-credentials-stale ${bobs}`,
        `store-user-orphaned acs-${carol.uuid}`,
        'store-user-orphaned acs-erin',
        'store-admin-bypass admins',
        'store-admin-bypass ops',
      ].sort(),
    );
    const ops = report.findings.find((f) => f.evidence.principal === 'ops');
    expect(ops?.evidence).toMatchObject({ policies: ['consoleAdmin'], enabledKeys: ['…ops', '…0017'] });
    expect(ops?.evidence.rights).toEqual(expect.arrayContaining(['s3:DeleteBucket', 'admin:CreateUser']));
    expect(report.findings.find((f) => f.evidence.principal === 'admins')?.evidence).toMatchObject({
      members: ['auditor'],
      policies: ['readwrite'],
    });
    expect(report.findings.find((f) => f.evidence.user === `acs-${carol.uuid}`)?.evidence).toMatchObject({
      buckets: [kept],
      account: { uuid: carol.uuid, name: 'carol', removed: true },
    });
    expect(report.findings.find((f) => f.bucket === bobs)?.evidence.reason).toContain('is suspended');
    const text = JSON.stringify(report);
    expect(text).not.toContain('ALICESVCKEY0000042');
    expect(text).not.toContain('secret-of-');
  });

  it('an answer that does not decrypt with the store keys is no answer: the key rules are unverified, never "no users"', async () => {
    const { account, bucket } = await minioCloud();
    const alice = await account('alice');
    await bucket(bucketName('alice'), alice);
    minio.state.users.set('ops', ['consoleAdmin']);
    minio.encryptWith = 'a-secret-that-is-not-the-store-keys';

    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO);

    for (const rule of KEY_RULES) expect(report.coverage[0]?.checks[rule]).toBe('unverified');
    expect(report.coverage[0]?.evidence.checkNotes?.['store-admin-bypass']).toContain('does not decrypt');
    expect(report.status).toBe('incomplete');
    expect(JSON.stringify(report)).not.toContain(ceph.systemAdmin.secretKey);
  });

  it('a MinIO without the access-key listing: service accounts are unread, said so, and no key is called dead for it', async () => {
    const { account, bucket } = await minioCloud();
    const alice = await account('alice');
    const viaService = bucketName('svc');
    await bucket(viaService, alice, { accessKey: 'ALICESVCKEY0000042' });
    minio.failing['list-access-keys-bulk'] = 404;

    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO);

    expect(found(report)).toEqual([]);
    expect(report.coverage[0]?.checks['bucket-credentials-stale']).toBe('verified');
    expect(report.coverage[0]?.evidence.checkNotes?.['bucket-credentials-stale']).toContain(
      'service accounts (list-access-keys-bulk answered HTTP 404',
    );
  });

  it("the billing and URL rules on MinIO too: a removed bucket still billed, and a row showing the store's old address", async () => {
    const { store, account, bucket } = await minioCloud();
    const alice = await account('alice');
    const moved = bucketName('moved');
    await bucket(moved, alice, { bucketUrl: `http://minio-old.internal:9000/${moved}` });
    const ghostName = bucketName('ghost');
    const ghost = await ctx.cloud.seed.bucket({
      name: ghostName,
      store,
      account: alice,
      removed: hoursAgo(30),
    });
    await ctx.cloud.seed.bucketStatistics(ghost, alice, 7 * 1024 ** 2);

    const report = await audit(ctx.cloud.database, IN_PROCESS_MINIO);

    expect(found(report)).toEqual(
      [`bucket-billed-after-removal ${ghostName}`, `bucket-url-stale ${moved}`].sort(),
    );
    expect(report.findings.find((f) => f.rule === 'bucket-billed-after-removal')?.billedButGoneBytes).toBe(
      7 * 1024 ** 2,
    );
    expect(report.findings.find((f) => f.rule === 'bucket-url-stale')?.evidence.storeUrl).toBe(
      minio.endpoint,
    );
  });
});
