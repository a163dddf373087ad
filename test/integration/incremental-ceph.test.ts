// scan.incremental on a live RGW: a bucket whose listing identity (bucket id and mtime) has not moved
// keeps its last verified read, and its findings say when that read was (evidence.verifiedAt); a
// bucket changed in the store, one past scan.fullVerifyDays and one a change event named are read
// whole. Requests are counted at a proxy in front of the RGW.
import { PutBucketPolicyCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { audit } from '../support/audit.js';
import type { CephAccount, CephCloud } from '../support/cloud.js';
import { bucketName } from '../support/cloud.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const DAY = 86_400_000;
const T0 = Date.parse('2027-01-10T02:00:00.000Z');

describe('scan.incremental on a live RGW', () => {
  const perTest = cephCloudPerTest('4.21');
  let cloud: CephCloud;
  let proxy: FaultProxy;
  let storage: FolderStorage;
  let alice: CephAccount;
  const names = Array.from({ length: 6 }, (_, i) => bucketName(`inc${i}`));
  const [drifted, opened, named] = names as [string, string, string];

  beforeEach(async () => {
    cloud = perTest.cloud;
    proxy = await new FaultProxy(ceph.endpoint).start();
    storage = new FolderStorage(perTest.dir);
    const store = await cloud.store('ceph-incremental', ceph.systemAdmin, proxy.endpoint);
    alice = await cloud.account('alice');
    // `drifted`: CloudStack says versioned, the store never was. The rest agree.
    for (const name of names) await cloud.bucket(name, store, alice, { versioning: name === drifted });
  });
  afterEach(() => proxy.stop());

  /** One night at `day` days after T0: the report and the instance reads it sent. */
  async function night(day: number, config: Record<string, unknown> = {}, buckets?: string[]) {
    proxy.requests = [];
    const report = await audit(
      cloud.database,
      { scan: { concurrency: 4, requestTimeoutMs: 5000, maxAttempts: 2, incremental: true }, ...config },
      {
        state: storage,
        now: () => new Date(T0 + day * DAY),
        rules: ['bucket-versioning-mismatch', 'bucket-policy-mismatch', 'bucket-object-lock-mismatch'],
        ...(buckets ? { buckets } : {}),
      },
    );
    const read = proxy.requests
      .filter((r) => r.url.startsWith('/admin/metadata/bucket.instance'))
      .map((r) => decodeURIComponent(r.url).replace(/^.*key=([^:&]+):.*$/, '$1'))
      .sort();
    return { report, read };
  }
  const findingOf = (report: Report, rule: string, bucket: string) =>
    report.findings.find((f) => f.rule === rule && f.bucket === bucket);

  it('reads only what changed, keeps the rest with the time it was read, and reads all again after fullVerifyDays', async () => {
    const first = await night(0);
    expect(first.read).toEqual([...names].sort());
    const night0 = new Date(T0).toISOString();
    expect(findingOf(first.report, 'bucket-versioning-mismatch', drifted)?.evidence).toMatchObject({
      verifiedAt: night0,
    });

    // Behind CloudStack's back: one bucket opened to the public.
    await cloud.client(alice.keys).send(
      new PutBucketPolicyCommand({
        Bucket: opened,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${opened}/*` },
          ],
        }),
      }),
    );
    const second = await night(1);
    expect(second.read).toEqual([opened]);
    expect(second.report.findings.map((f) => `${f.rule} ${f.bucket}`).sort()).toEqual(
      [`bucket-policy-mismatch ${opened}`, `bucket-versioning-mismatch ${drifted}`].sort(),
    );
    // Kept from night 0, and says so; the policy was read tonight.
    expect(findingOf(second.report, 'bucket-versioning-mismatch', drifted)?.evidence).toMatchObject({
      verifiedAt: night0,
    });
    expect(findingOf(second.report, 'bucket-policy-mismatch', opened)?.evidence).toMatchObject({
      verifiedAt: new Date(T0 + DAY).toISOString(),
    });
    expect(second.report.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('verified');

    // Nothing changed: no instance read at all.
    expect((await night(2)).read).toEqual([]);
    // Past scan.fullVerifyDays (7) since a bucket's read: read whole, though nothing changed. The
    // policy read on night 1 is not due yet; it is on the night after.
    const unchanged = names.filter((n) => n !== opened).sort();
    expect((await night(7.5)).read).toEqual(unchanged);
    expect((await night(8.2)).read).toEqual([opened]);
    // Sooner when the config says so.
    const daily = { scan: { incremental: true, fullVerifyDays: 1 } };
    expect((await night(8.4, daily)).read).toEqual([]);
    expect((await night(8.6, daily)).read).toEqual(unchanged);
  });

  it('a change event reads its bucket whole and the next night keeps that read', async () => {
    await night(0);
    await cloud
      .client(alice.keys)
      .send(
        new PutBucketVersioningCommand({ Bucket: named, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    // The event run (a targeted audit of the bucket the event named) is never incremental.
    const event = await night(0.5, {}, [named]);
    expect(event.read).toEqual([named]);
    expect(event.report.findings.map((f) => `${f.rule} ${f.bucket}`)).toEqual([
      `bucket-versioning-mismatch ${named}`,
    ]);
    // The night after: the event run's read is kept (the identity it saw is the store's), nothing read.
    const next = await night(1);
    expect(next.read).toEqual([]);
    expect(findingOf(next.report, 'bucket-versioning-mismatch', named)?.evidence).toMatchObject({
      verifiedAt: new Date(T0 + 0.5 * DAY).toISOString(),
    });
  });

  it('keeps nothing unless scan.incremental is on, and never keeps a read from a listing it cannot trust', async () => {
    await night(0, { scan: { concurrency: 4, requestTimeoutMs: 5000, maxAttempts: 2 } });
    expect(await storage.list('state/')).toEqual([]);
    // A listing that lies (a user page cut short without a marker): partial, nothing kept.
    proxy.plan = (req) =>
      req.url?.startsWith('/admin/metadata/user')
        ? {
            kind: 'answer',
            status: 200,
            contentType: 'application/json',
            body: '{"keys":["auditadmin"],"truncated":true}',
          }
        : null;
    const cut = await night(1);
    expect(cut.report.coverage[0]?.status).toBe('partial');
    expect(await storage.list('state/')).toEqual([]);
  });
});
