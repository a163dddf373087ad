// The key rules on a live RGW, its users made with radosgw-admin as an operator (or CloudStack's Ceph
// driver) makes them: a store user outliving its account, principals besides CloudStack's admin that
// can delete any bucket, and a bucket row whose key was rotated away in the store. A healthy cloud
// stays silent, and an admin that may not list users is told which caps it lacks.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { audit, found } from '../support/audit.js';
import { ensurePlainAdmin, radosgwAdmin } from '../support/ceph.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';

const KEY_RULES = ['bucket-credentials-stale', 'store-user-orphaned', 'store-admin-bypass'] as const;

describe('keys and principals on a live RGW', () => {
  const ctx = cephCloudPerTest('4.21');
  const admin = (...args: string[]) => radosgwAdmin(ctx.cloud.ceph.conf, args);

  it('a healthy cloud: every key rule verified, nothing found', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.bucket(bucketName('alice'), store, alice);

    const report = await audit(ctx.cloud.database);

    expect(found(report)).toEqual([]);
    for (const rule of KEY_RULES) expect(report.coverage[0]?.checks[rule]).toBe('verified');
    expect(report.status).toBe('in_sync');
  });

  it("a removed account's user and an unknown account's user, with their keys and buckets", async () => {
    const store = await ctx.cloud.store('ceph-1');
    const carol = await ctx.cloud.account('carol', { removed: hoursAgo(48) });
    const stray = randomUUID();
    await admin('user', 'create', `--uid=${stray}`, '--display-name=from another cloud');
    const info = JSON.parse(await admin('user', 'info', `--uid=${stray}`)) as {
      keys: { access_key: string }[];
    };
    const strayKey = info.keys[0]?.access_key ?? '';
    const kept = bucketName('kept');
    await ctx.cloud.createInStore(kept, carol.keys);
    // Its row removed with the account: the bucket outlived both.
    await ctx.cloud.seed.bucket({ name: kept, store, account: carol, removed: hoursAgo(48) });

    const report = await audit(ctx.cloud.database);

    const orphans = report.findings.filter((f) => f.rule === 'store-user-orphaned');
    expect(orphans.map((f) => f.evidence.user).sort()).toEqual([carol.uuid, stray].sort());
    const ofCarol = orphans.find((f) => f.evidence.user === carol.uuid);
    expect(ofCarol?.message).toContain(`belongs to account carol (${carol.uuid}), removed`);
    expect(ofCarol?.evidence).toMatchObject({
      buckets: [kept],
      enabledKeys: [`…${carol.keys.accessKey.slice(-4)}`],
    });
    expect(orphans.find((f) => f.evidence.user === stray)?.message).toContain(
      `an account uuid ${stray} this CloudStack does not have`,
    );
    // Key ids are shown by their last four characters only; secrets never.
    const text = JSON.stringify(report);
    for (const secret of [carol.keys.accessKey, carol.keys.secretKey, strayKey])
      expect(text).not.toContain(secret);
  });

  it('principals that can delete any bucket: caps, the system flag; allowed ones and read-only ones are not reported', async () => {
    await ctx.cloud.store('ceph-1');
    const tag = bucketName('ops');
    await admin('user', 'create', `--uid=${tag}-tool`, '--display-name=backup tool', '--caps=buckets=*');
    await admin('user', 'create', `--uid=${tag}-sync`, '--display-name=sync', '--system');
    await admin(
      'user',
      'create',
      `--uid=${tag}-reader`,
      '--display-name=reader',
      '--caps=buckets=read;usage=read',
    );

    const report = await audit(ctx.cloud.database);

    const bypass = report.findings.filter((f) => f.rule === 'store-admin-bypass');
    expect(bypass.map((f) => f.evidence.principal).sort()).toEqual([`${tag}-sync`, `${tag}-tool`]);
    expect(bypass.find((f) => f.evidence.principal === `${tag}-tool`)).toMatchObject({
      severity: 'medium',
      evidence: { rights: ['caps buckets=*'] },
    });
    expect(bypass.find((f) => f.evidence.principal === `${tag}-sync`)?.evidence.rights).toEqual([
      'system user (passes every permission check)',
    ]);
    expect(bypass[0]?.remediation.steps.join('\n')).toContain('radosgw-admin caps rm');

    // Without the allowed list, the harness's plain admin is one too; CloudStack's own (the system admin) never.
    await ensurePlainAdmin(ctx.cloud.ceph.conf, ctx.cloud.ceph.plainAdmin);
    const strict = await audit(ctx.cloud.database, { rules: { 'store-admin-bypass': { allowed: [] } } });
    const principals = strict.findings
      .filter((f) => f.rule === 'store-admin-bypass')
      .map((f) => f.evidence.principal);
    expect(principals).toContain('plainadmin');
    expect(principals).not.toContain('auditadmin');
  });

  it("a bucket row whose key was rotated away in the store: stale, named by the key's end only", async () => {
    const store = await ctx.cloud.store('ceph-1');
    const bob = await ctx.cloud.account('bob');
    const name = bucketName('rotated');
    await ctx.cloud.bucket(name, store, bob, { created: hoursAgo(5) });
    await admin('key', 'create', `--uid=${bob.uuid}`, '--key-type=s3', '--gen-access-key', '--gen-secret');
    await admin('key', 'rm', `--uid=${bob.uuid}`, '--key-type=s3', `--access-key=${bob.keys.accessKey}`);

    const report = await audit(ctx.cloud.database);

    expect(found(report)).toEqual([`bucket-credentials-stale ${name}`]);
    const finding = report.findings[0];
    expect(finding?.message).toContain(`shows access key …${bob.keys.accessKey.slice(-4)} in CloudStack`);
    expect(finding?.evidence).toMatchObject({ ownerUser: bob.uuid, ownerUserEnabled: true });
    expect(finding?.remediation.steps.join('\n')).toContain("ak.name = 'ceph-rgw-accesskey'");
    expect(JSON.stringify(report)).not.toContain(bob.keys.accessKey);
  });

  it('an admin that may not list users: the key rules are not applicable, say which caps, and the run is not incomplete for them', async () => {
    const store = await ctx.cloud.store('ceph-1', ctx.cloud.ceph.listingAdmin);
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.bucket(bucketName('alice'), store, alice);

    const report = await audit(ctx.cloud.database, {
      rules: { 'bucket-owner-mismatch': { enabled: false } },
    });

    for (const rule of KEY_RULES) {
      expect(report.coverage[0]?.checks[rule]).toBe('not_applicable');
      expect(report.coverage[0]?.evidence.checkNotes?.[rule]).toContain('users=read and metadata=read');
    }
  });
});
