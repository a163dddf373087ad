// Drift sized in bytes against a live RGW: the bytes on each finding and in the summary are the
// store's own figures, to the byte; with pricing, what they cost a month.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { planNotifications } from '../../functions/core/notifications.js';
import { renderRunMetrics } from '../../functions/metrics/run-metrics.js';
import { auditWithLedger } from '../support/audit.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';
import type { Notification } from '../../functions/core/notifications.js';
import { snsBody } from '../../functions/notify/sns.js';

/** A notification as SNS carries it (notify/sns.ts renders it): its subject and body. */
const bodyOf = (m: Notification | undefined) => (m ? snsBody(m) : '');

describe('bytes at stake on a live Ceph RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  it('carries the store-reported size on unbilled findings and the difference on usage drift, summed exactly', async () => {
    const { cloud } = ctx;
    const store = await cloud.store('ceph-1');
    const alice = await cloud.account('alice');
    const bob = await cloud.account('bob', { removed: new Date('2026-11-01T00:00:00Z') });
    const put = async (bucket: string, bytes: number, keys = alice.keys) =>
      cloud
        .client(keys)
        .send(new PutObjectCommand({ Bucket: bucket, Key: 'data.bin', Body: Buffer.alloc(bytes, 1) }));

    const rogue = bucketName('rogue'); // unmanaged: 300 KiB nobody is billed for
    await cloud.createInStore(rogue, alice.keys);
    await put(rogue, 300 * 1024);
    const old = bucketName('old'); // removed in CloudStack, still stored: 100 KiB
    await cloud.createInStore(old, alice.keys);
    await put(old, 100 * 1024);
    await cloud.seed.bucket({ name: old, store, account: alice, removed: new Date('2026-11-02T00:00:00Z') });
    const orphan = bucketName('orphan'); // its account was removed: 50 KiB
    await cloud.createInStore(orphan, bob.keys);
    await put(orphan, 50 * 1024, bob.keys);
    await cloud.seed.bucket({ name: orphan, store, account: bob, size: 50 * 1024 }); // billed right, to nobody
    const kib = bucketName('kib'); // usage recorded in KiB (apache/cloudstack#13224): 200 KiB billed as 200 bytes
    await cloud.createInStore(kib, alice.keys);
    await put(kib, 200 * 1024);
    await cloud.seed.bucket({ name: kib, store, account: alice, size: 200 });

    const { report, ledger } = await auditWithLedger(
      cloud.database,
      {
        // Bob's store user outlives his account too (store-user-orphaned, no bytes of its own): left out
        // here, where only the bytes are looked at.
        rules: { 'bucket-usage-drift': { toleranceMiB: 0 }, 'store-user-orphaned': { enabled: false } },
        pricing: { perGiBMonth: 1024, currency: 'EUR' },
      },
      {},
    );

    const bytes = Object.fromEntries(report.findings.map((f) => [`${f.rule} ${f.bucket}`, f.bytes]));
    expect(bytes).toMatchObject({
      [`bucket-unmanaged-in-store ${rogue}`]: 300 * 1024,
      [`bucket-removed-but-present ${old}`]: 100 * 1024,
      [`bucket-account-removed ${orphan}`]: 50 * 1024,
      [`bucket-usage-drift ${kib}`]: 200 * 1024 - 200,
    });
    expect(report.summary.bytes).toEqual({
      unbilled: (300 + 100 + 50) * 1024,
      misbilled: 200 * 1024 - 200,
      unknownSize: 0,
      billedButGone: 0,
    });
    // At 1024 EUR a GiB-month, a MiB costs 1 EUR a month: 450 KiB is 0.44 EUR.
    expect(report.summary.monthlyCost).toEqual({
      unbilled: Math.round(((450 * 1024) / 1024 ** 3) * 1024 * 100) / 100,
      misbilled: Math.round(((200 * 1024 - 200) / 1024 ** 3) * 1024 * 100) / 100,
      billedButGone: 0,
      currency: 'EUR',
    });
    expect(report.findings.find((f) => f.bucket === rogue)?.message).toMatch(/holding 0\.3 MiB/);

    // The metrics and the digest carry it too.
    const metrics = await renderRunMetrics({
      status: report.status,
      startedAt: new Date(report.startedAt),
      finishedAt: new Date(report.finishedAt),
      report,
      lastSuccessAt: null,
    });
    expect(metrics).toContain(`csdrift_unbilled_bytes{store="ceph-1"} ${450 * 1024}`);
    expect(metrics).toContain(`csdrift_misbilled_bytes{store="ceph-1"} ${200 * 1024 - 200}`);
    const { messages } = planNotifications({ report, ledger, reportUri: 'report.html', notify: undefined });
    const digest = messages.find((m) => m.kind === 'digest');
    expect(bodyOf(digest).split('\n')[0]).toBe(
      '+4 new, -0 resolved; 0.4 MiB unbilled, 0.2 MiB misbilled (0.64 EUR a month).',
    );
    const task = messages.find((m) => m.kind === 'task' && snsBody(m).includes(rogue));
    expect(bodyOf(task)).toMatch(/holding 0\.3 MiB/);
  });
});
