// Self-healing of the seed case end to end: the owner's deleteBucket fails on the CloudStack API
// stand-in (the bucket is gone from the live RGW), the stand-in records the failed BUCKET.DELETE in
// the real `event` table as CloudStack does, the watcher's targeted audit confirms
// bucket-missing-in-store, and the guarded remediation completes the delete at once: one `healed`
// message on SNS, no task. The auditor's own calls raise events too; they never start another action.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { CloudStackApi } from '../../functions/cloudstack/api-client.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { Ledger } from '../../functions/core/ledger.js';
import type { Watcher } from '../../functions/watch/watcher.js';
import { FAST_SCAN } from '../support/audit.js';
import { SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import { AMQP_URL, CloudStackBus, insertEventRow } from '../support/cloudstack-events.js';
import { randomBytes } from 'node:crypto';
import { CloudStackStandIn } from '../support/cloudstack-standin.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';
import { testWatcher } from '../support/watcher.js';
import { readFile } from 'node:fs/promises';

const ceph = inject('ceph');
const API_KEYS = { apiKey: 'csdrift-admin-apikey', secretKey: 'csdrift-admin-secretkey-0000' };

describe('self-healing of failed deletes (remediation.auto.failedDeletes)', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let cloudstack: CloudStackStandIn;
  let watcher: Watcher | undefined;
  const lines: string[] = [];

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    owner = undefined;
    // CloudStack records every finished deleteBucket in its event table, the auditor's own included.
    cloudstack = await new CloudStackStandIn(API_KEYS, ctx.cloud.database.conn, ceph.conf, '', (e) =>
      insertEventRow(ctx.cloud.database.conn, { type: 'BUCKET.DELETE', ...e }).then(() => {}),
    ).start();
    lines.length = 0;
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(lines.join('\n'));
    await watcher?.stop();
    watcher = undefined;
    await cloudstack.stop();
    await sns.stop();
  });

  async function startWatcher(auto: Record<string, unknown> = {}) {
    const config = parseAuditConfig({
      scan: FAST_SCAN,
      cloudstack: { apiUrl: cloudstack.apiUrl, ...API_KEYS },
      remediation: { auto: { failedDeletes: true, ...auto } },
      watch: { listen: '127.0.0.1:0', debounceSeconds: 0.3, cloudstack: { pollEventsSeconds: 1 } },
    });
    watcher = testWatcher({ db: ctx.cloud.database.db, dir: ctx.dir, config, sns, lines });
    await watcher.start();
    // The poller starts after the newest event it finds: what comes later is the watcher's.
    await until('the first poll', () => lines.some((l) => l.includes('reading cloud.event')));
  }

  let owner:
    | {
        store: Awaited<ReturnType<typeof ctx.cloud.store>>;
        alice: Awaited<ReturnType<typeof ctx.cloud.account>>;
      }
    | undefined;
  /** A bucket deleted in the store behind CloudStack's back, all on one store and one owner. */
  async function seedCase(label: string) {
    owner ??= { store: await ctx.cloud.store('ceph-1'), alice: await ctx.cloud.account('alice') };
    const { store, alice } = owner;
    const name = bucketName(label);
    const row = await ctx.cloud.bucketDeletedInStore(name, store, alice);
    return { name, id: row.id, uuid: row.uuid };
  }

  /** The owner presses delete in CloudStack's UI: the job fails, CloudStack records the failed event. */
  const ownerDeletes = (uuid: string) =>
    new CloudStackApi({ apiUrl: cloudstack.apiUrl, ...API_KEYS, pollMs: 20 })
      .callAsync('deleteBucket', { id: uuid })
      .catch((err: Error) => err.message);

  const removed = async (id: number) => {
    const [rows] = await ctx.cloud.database.conn.query<RowDataPacket[]>(
      'SELECT removed FROM bucket WHERE id = ?',
      [id],
    );
    return rows[0]?.removed !== null;
  };
  const ledger = async () =>
    JSON.parse(await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8')) as Ledger;
  const kinds = () => sns.published.map((m) => `${m.attributes.kind} ${m.attributes.rule}`);
  const deletes = () => cloudstack.calls.filter((c) => c.command === 'deleteBucket').length;

  it('completes the failed delete at once, verifies it, and sends one healed message instead of a task', async () => {
    const gone = await seedCase('gone');
    await startWatcher();

    expect(await ownerDeletes(gone.uuid)).toContain("Bucket doesn't exist");
    await until('the healed message', () => kinds().includes('healed bucket-missing-in-store'), 30_000);

    expect(await removed(gone.id)).toBe(true);
    expect(kinds()).toEqual(['healed bucket-missing-in-store']);
    const healed = sns.published[0];
    expect(healed?.message).toContain('HEALED: bucket-missing-in-store');
    expect(healed?.message).toContain('by auto:failed-delete');
    const entries = Object.values((await ledger()).entries);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      status: 'resolved',
      actions: [{ by: 'auto:failed-delete', action: 'fix', outcome: 'done' }],
    });
    await until('the log line', () => lines.some((l) => l.startsWith(`healed ${gone.name} on ceph-1`)));
    // Every call was signed; the auditor's own successful delete raised an event, audited in sync, and nothing more.
    expect(cloudstack.calls.every((c) => c.signatureValid)).toBe(true);
    await until(
      'the in-sync verdict of the event',
      () => lines.some((l) => /BUCKET\.DELETE .*-> bucket .*: in sync/.test(l)),
      15_000,
    );
    expect(deletes()).toBe(2);
    expect(kinds()).toEqual(['healed bucket-missing-in-store']);
    expect(lines.join('\n')).not.toContain(API_KEYS.secretKey);
  });

  it("heals a failed delete CloudStack's RabbitMQ bus reports, as the event table's", async () => {
    // CloudStack publishing on its bus instead of (here: besides) the table the watcher does not read.
    const id = randomBytes(4).toString('hex');
    const exchange = `cloudstack-events-${id}`;
    const queue = `csdrift-heal-${id}`;
    const bus = await CloudStackBus.open(exchange);
    try {
      await cloudstack.stop();
      cloudstack = await new CloudStackStandIn(API_KEYS, ctx.cloud.database.conn, ceph.conf, '', (e) =>
        bus.publish({ type: 'BUCKET.DELETE', bucketUuid: e.bucketUuid, failed: e.failed }),
      ).start();
      const gone = await seedCase('gone');
      const config = parseAuditConfig({
        scan: FAST_SCAN,
        cloudstack: { apiUrl: cloudstack.apiUrl, ...API_KEYS },
        remediation: { auto: { failedDeletes: true } },
        watch: {
          listen: '127.0.0.1:0',
          debounceSeconds: 0.3,
          cloudstack: { amqp: { url: AMQP_URL, exchange, queue } },
        },
      });
      watcher = testWatcher({ db: ctx.cloud.database.db, dir: ctx.dir, config, sns, lines });
      await watcher.start();
      await until('the consumer', async () => (await bus.queue(queue)).consumerCount > 0);

      await ownerDeletes(gone.uuid);
      await until('the healed message', () => kinds().includes('healed bucket-missing-in-store'), 30_000);

      expect(await removed(gone.id)).toBe(true);
      expect(kinds()).toEqual(['healed bucket-missing-in-store']);
      await until('the in-sync verdict of its own delete', () =>
        lines.some((l) => /BUCKET\.DELETE \(amqp\) -> bucket .*: in sync/.test(l)),
      );
      expect(deletes()).toBe(2);
    } finally {
      await watcher?.stop();
      watcher = undefined;
      await bus.deleteQueue(queue);
      await bus.close();
    }
  });

  it('heals nothing when the failed delete’s bucket still exists in the store (it failed for another reason)', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const kept = await ctx.cloud.bucket(bucketName('kept'), store, alice);
    await startWatcher();

    await insertEventRow(ctx.cloud.database.conn, {
      type: 'BUCKET.DELETE',
      bucketUuid: kept.uuid,
      bucketId: kept.id,
      failed: true,
    });
    await until(
      'the in-sync verdict of the event',
      () => lines.some((l) => /BUCKET\.DELETE \(failed\) .*: in sync/.test(l)),
      15_000,
    );

    expect(cloudstack.calls).toEqual([]);
    expect(await removed(kept.id)).toBe(false);
    expect(sns.published).toEqual([]);
  });

  it('holds its rate limit per store: past maxPerHour, tasks as before', async () => {
    const first = await seedCase('first');
    const second = await seedCase('second');
    await startWatcher({ maxPerHour: 1 });

    await ownerDeletes(first.uuid);
    await until('the healed message', () => kinds().includes('healed bucket-missing-in-store'), 30_000);
    await ownerDeletes(second.uuid);
    await until('the task', () => kinds().includes('task bucket-missing-in-store'), 30_000);

    expect(await removed(first.id)).toBe(true);
    expect(await removed(second.id)).toBe(false);
    await until('the log line', () => lines.some((l) => l.includes('reached its limit of 1 per hour')));
    const task = sns.published.find((m) => m.attributes.kind === 'task');
    expect(task?.message).toContain(
      'Self-healing left it to a person: self-healing on store ceph-1 reached its limit',
    );
  });

  it('stops at the kill switch without a restart, and goes on once it is removed', async () => {
    const first = await seedCase('first');
    const second = await seedCase('second');
    await startWatcher();
    await mkdir(join(ctx.dir, 'state'), { recursive: true });
    await writeFile(join(ctx.dir, 'state', 'auto-remediation.off'), 'incident 4711\n');

    await ownerDeletes(first.uuid);
    await until('the task', () => kinds().includes('task bucket-missing-in-store'), 30_000);
    expect(await removed(first.id)).toBe(false);
    await until('the log line', () => lines.some((l) => l.includes('stopped by the kill switch')));
    expect(sns.published.find((m) => m.attributes.kind === 'task')?.message).toContain(
      'Self-healing left it to a person: self-healing is stopped by the kill switch',
    );

    await rm(join(ctx.dir, 'state', 'auto-remediation.off'));
    await ownerDeletes(second.uuid);
    await until('the healed message', () => kinds().includes('healed bucket-missing-in-store'), 30_000);
    expect(await removed(second.id)).toBe(true);
    expect(await removed(first.id)).toBe(false);
  });

  it('in dry-run mode says what it would do, records it, changes nothing, and sends the task', async () => {
    const gone = await seedCase('gone');
    await startWatcher({ dryRun: true });

    await ownerDeletes(gone.uuid);
    await until('the task', () => kinds().includes('task bucket-missing-in-store'), 30_000);

    expect(await removed(gone.id)).toBe(false);
    expect(deletes()).toBe(1); // the owner's own
    await until('the log line', () =>
      lines.some((l) => l.startsWith('self-healing (dry run) would re-create an empty bucket')),
    );
    const entry = Object.values((await ledger()).entries)[0];
    expect(entry?.actions).toMatchObject([{ by: 'auto:failed-delete', outcome: 'refused', dryRun: true }]);
    expect(sns.published.find((m) => m.attributes.kind === 'task')?.message).toContain(
      'Self-healing (dry run) would re-create an empty bucket',
    );
  });
});
