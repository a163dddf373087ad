// csdrift watch end to end: CloudStack's events from a real RabbitMQ, signed webhooks and the real
// `event` table become targeted audits of a live RGW, whose tasks reach the SNS stand-in.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { Watcher } from '../../functions/watch/watcher.js';
import type { Notifier } from '../../functions/notify/notifier.js';
import { SlackNotifier } from '../../functions/notify/slack.js';
import { testWatcher } from '../support/watcher.js';
import { FAST_SCAN } from '../support/audit.js';
import { SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import type { BucketEvent } from '../support/cloudstack-events.js';
import { AMQP_URL, CloudStackBus, insertEventRow, postWebhook } from '../support/cloudstack-events.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { dbUrlText } from '../support/database.js';
import { expectValidReport } from '../support/report-schema.js';
import { PrivateRabbitMq } from '../support/private-rabbitmq.js';

const ceph = inject('ceph');
const SECRET = 's3cr3t-webhook-key';

describe('csdrift watch', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let bus: CloudStackBus;
  let watcher: Watcher | undefined;
  let exchange: string;
  let queue: string;
  const lines: string[] = [];

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    const id = randomBytes(4).toString('hex');
    exchange = `cloudstack-events-${id}`;
    queue = `csdrift-watch-${id}`;
    bus = await CloudStackBus.open(exchange);
    lines.length = 0;
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(lines.join('\n'));
    await watcher?.stop();
    watcher = undefined;
    await bus.deleteQueue(queue);
    await bus.close();
    await sns.stop();
  });

  /** The seed case on a live RGW, and a bucket in sync. */
  async function cloud() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    const photos = bucketName('photos');
    const goneRow = await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const photosRow = await ctx.cloud.bucket(photos, store, alice);
    return { store, alice, gone, photos, goneRow, photosRow };
  }

  async function startWatcher(watch: Record<string, unknown>, notifiers: Notifier[] = []): Promise<string> {
    const config = parseAuditConfig({
      scan: FAST_SCAN,
      ...(watch.stores ? { stores: watch.stores } : {}),
      watch: {
        listen: '127.0.0.1:0',
        debounceSeconds: 0.3,
        ...Object.fromEntries(Object.entries(watch).filter(([k]) => k !== 'stores')),
      },
    });
    watcher = testWatcher({ db: ctx.cloud.database.db, dir: ctx.dir, config, sns, lines, notifiers });
    return watcher.start();
  }

  const kinds = () => sns.published.map((m) => `${m.attributes.kind} ${m.attributes.rule}`);

  it('RabbitMQ: a failed delete gives one task, events in sync give nothing, re-creating gives one resolved message', async () => {
    // Prepare
    const { alice, gone, photos, goneRow, photosRow } = await cloud();
    await startWatcher({ cloudstack: { amqp: { url: AMQP_URL, exchange, queue } } });
    await until('the consumer', async () => (await bus.queue(queue)).consumerCount === 1);

    // Act: the seed case, twice (a retried delete), and an update of a bucket in sync
    const failed: BucketEvent = { type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true };
    await bus.publish(failed);
    await bus.publish(failed);
    await bus.publish({ type: 'BUCKET.UPDATE', bucketUuid: photosRow.uuid });
    await until('the task', () => sns.published.length >= 1);
    await new Promise((r) => setTimeout(r, 1500)); // anything more would have come by now

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(sns.published[0]?.message).toContain(gone);
    expect(sns.published.some((m) => m.message.includes(photos))).toBe(false);
    expect((await bus.queue(queue)).messageCount).toBe(0);
    expect(lines.some((l) => l.includes(`bucket ${gone}: drift: bucket-missing-in-store (new)`))).toBe(true);

    // Act: the operator re-creates the bucket; CloudStack's next update of it is an event
    await ctx.cloud.createInStore(gone, alice.keys);
    await bus.publish({ type: 'BUCKET.UPDATE', bucketUuid: goneRow.uuid });
    await until('the resolved message', () => sns.published.length >= 2);

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store', 'resolved bucket-missing-in-store']);
  });

  it('RabbitMQ: a malformed or hostile message is dropped and the watcher goes on', async () => {
    // Prepare
    const { goneRow } = await cloud();
    const listening = await startWatcher({ cloudstack: { amqp: { url: AMQP_URL, exchange, queue } } });
    await until('the consumer', async () => (await bus.queue(queue)).consumerCount === 1);

    // Act
    const key = 'management-server.ActionEvent.BUCKET-DELETE.Bucket.x';
    await bus.publishRaw(key, 'not json at all \u001b[2J');
    await bus.publishRaw(
      key,
      JSON.stringify({ event: 'BUCKET.DELETE', status: 'Completed', description: 'no id' }),
    );
    await bus.publishRaw(
      key,
      JSON.stringify({
        event: 'BUCKET.DELETE',
        status: 'Completed',
        entityuuid: 'ffffffff-0000-4000-8000-000000000000',
      }),
    );
    await bus.publish({ type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true });
    await until('the task', () => sns.published.length >= 1);

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    // Both counted; logged once a minute at most, so a flood of garbage cannot flood the log.
    const metrics = await (await fetch(`http://${listening}/metrics`)).text();
    expect(metrics).toMatch(/csdrift_events_dropped_total\{source="amqp",reason="malformed"\} 2/);
    expect(lines.filter((l) => l.startsWith('amqp: dropped input that is no change event'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('no bucket row with that uuid'))).toBe(true);
    expect(lines.join('\n')).not.toContain('\u001b');
    expect((await bus.queue(queue)).messageCount).toBe(0);
  });

  describe('against a private RabbitMQ node (these tests cut and restart the broker)', () => {
    let broker: PrivateRabbitMq;
    beforeAll(async () => {
      broker = await PrivateRabbitMq.start();
    }, 120_000);
    afterAll(async () => {
      await broker?.stop();
    });
    beforeEach(async () => {
      await bus.close();
      bus = await CloudStackBus.open(exchange, broker.url);
    });

    it('RabbitMQ: events published while the broker connection is down are audited after it reconnects', async () => {
      // Prepare
      const { goneRow } = await cloud();
      await startWatcher({ cloudstack: { amqp: { url: broker.url, exchange, queue } } });
      await until('the consumer', async () => (await bus.queue(queue)).consumerCount === 1);

      // Act: the broker drops the watcher's connection; the event waits in our durable queue
      await broker.closeAllConnections('csdrift test: broker restart');
      await bus.close();
      bus = await CloudStackBus.open(exchange, broker.url);
      await bus.publish({ type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true });
      await until('the task', () => sns.published.length >= 1, 60_000);

      // Assert
      expect(kinds()).toEqual(['task bucket-missing-in-store']);
      expect(lines.some((l) => l.startsWith('amqp: lost'))).toBe(true);
      expect((await bus.queue(queue)).messageCount).toBe(0);
    });

    it('RabbitMQ: a broker restart mid-audit loses nothing and tells nothing twice', async () => {
      // Prepare: a store whose every answer takes a second, so the audit is in flight at the restart
      const proxy = await new FaultProxy(ceph.endpoint).start();
      proxy.plan = () => ({ kind: 'slow', ms: 1000 });
      const { goneRow } = await cloud();
      await startWatcher({
        cloudstack: { amqp: { url: broker.url, exchange, queue } },
        stores: { 'ceph-1': { endpoint: proxy.endpoint } },
      });
      await until('the consumer', async () => (await bus.queue(queue)).consumerCount === 1);

      // Act: the broker stops and starts while the event's audit runs; its ack cannot get through
      await bus.publish({ type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true });
      await until('the audit to start', () => lines.some((l) => l.startsWith('auditing 1 bucket(s)')));
      await bus.close();
      await broker.restartApp();
      bus = await CloudStackBus.open(exchange, broker.url);
      await until(
        'the redelivered event to be audited again',
        () => lines.filter((l) => l.startsWith('auditing')).length >= 2,
        60_000,
      );
      await until('the queue to drain', async () => {
        const q = await bus.queue(queue);
        return q.consumerCount === 1 && q.messageCount === 0;
      });
      await until(
        'the second verdict',
        () => lines.filter((l) => l.includes('-> bucket')).length >= 2,
        30_000,
      );

      // Assert: at least once, and told once
      expect(kinds()).toEqual(['task bucket-missing-in-store']);
      expect(lines.some((l) => l.startsWith('amqp: lost'))).toBe(true);
      await proxy.stop();
    });
  });

  it('a channel that fails is counted by channel and said in the log; the task still goes out on the others', async () => {
    const { goneRow } = await cloud();
    // A Slack webhook nobody answers: a port that was free a moment ago.
    const closed = await new SnsStandIn().start();
    const deadUrl = closed.url;
    await closed.stop();
    const listening = await startWatcher({ cloudstack: { webhookSecret: SECRET } }, [
      new SlackNotifier(`${deadUrl}/services/T/B/x`),
    ]);
    const metricsText = () => fetch(`http://${listening}/metrics`).then((r) => r.text());
    expect(await metricsText()).toMatch(/^csdrift_notifications_failed_total\{channel="slack"\} 0$/m);

    await postWebhook(
      `http://${listening}/events/cloudstack`,
      { type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true },
      SECRET,
    );
    await until('the failure counted', async () =>
      /^csdrift_notifications_failed_total\{channel="slack"\} [1-9]/m.test(await metricsText()),
    );

    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(await metricsText()).toMatch(/^csdrift_notifications_failed_total\{channel="sns"\} 0$/m);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^notification not sent, to be tried again: Slack refused .*could not be reached/,
      ),
    );
    expect(lines.join('\n')).not.toContain('/services/T/B/x');
  });

  it('views stay true: after a full audit with drift, a webhook for another bucket leaves latest/ on the full run and current/ with every open finding', async () => {
    // Prepare: the nightly audit finds the seed case; the watcher shares its --out, as the README's set-up has it
    const { gone, photos, photosRow } = await cloud();
    const full = await csdrift([
      'audit',
      '--quiet',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
      '--format',
      'json,html,md',
    ]);
    expect(full.code).toBe(1);
    const listening = await startWatcher({ cloudstack: { webhookSecret: SECRET } });
    const read = async (key: string) => JSON.parse(await readFile(join(ctx.dir, key), 'utf8')) as Report;
    const fullRun = await read('latest/report.json');

    // Act: CloudStack updates the bucket in sync; its event run finds it in sync
    const update = await postWebhook(
      `http://${listening}/events/cloudstack`,
      { type: 'BUCKET.UPDATE', bucketUuid: photosRow.uuid },
      SECRET,
    );
    await until('the event run', () => lines.some((l) => l.includes(`bucket ${photos}: in sync`)));
    await until(
      'the current view of the event run',
      async () => (await read('current/report.json')).runId !== fullRun.runId,
    );

    // Assert: latest/ is still the full run and its drift
    expect(update.status).toBe(200);
    const latest = await read('latest/report.json');
    expect(latest.runId).toBe(fullRun.runId);
    expect(latest.status).toBe('drift');
    expect(await readFile(join(ctx.dir, 'latest/report.html'), 'utf8')).not.toMatch(/verdict">in sync/);
    // current/ holds every open finding of the ledger, when it was last verified, and the store's last full verification
    const current = await read('current/report.json');
    expect(current.kind).toBe('current');
    expect(current.status).toBe('drift');
    expect(current.findings.map((f) => `${f.rule} ${f.bucket}`)).toEqual([`bucket-missing-in-store ${gone}`]);
    expect(current.findings[0]?.lastVerifiedAt).toBe(fullRun.cloudstack.readAt);
    expect(current.coverage[0]?.lastFullVerification).toBe(fullRun.cloudstack.readAt);
    expectValidReport(current);
    // The event run's own report says it is targeted.
    const runs = await csdrift(['report', '--out', ctx.dir, '--list', '--format', 'json']);
    const listed = JSON.parse(runs.stdout) as { runId: string; trigger: string; scope: string }[];
    const eventRun = listed.find((r) => r.runId !== fullRun.runId)?.runId as string;
    expect(listed.find((r) => r.runId === eventRun)).toMatchObject({
      trigger: 'event',
      scope: expect.stringMatching(/1 bucket\(s\) /),
    });
    const own = await csdrift(['report', '--out', ctx.dir, '--run', eventRun, '--format', 'md']);
    expect(own.stdout).toContain(`Targeted run \\(event\\): 1 bucket\\(s\\): ${photos}`);
    // csdrift report, with no run named, prints the current view: the drift, not "in sync".
    const printed = await csdrift(['report', '--out', ctx.dir]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^\*\*csdrift drift\*\*: 1 finding/);
    expect(printed.stdout).toContain('Current view as of');
    expect(printed.stdout).toContain(gone);
  });

  it('webhooks: a good signature is queued and audited, a bad one refused; in sync says nothing; re-created is resolved', async () => {
    // Prepare
    const { alice, gone, photos, goneRow, photosRow } = await cloud();
    const listening = await startWatcher({ cloudstack: { webhookSecret: SECRET } });
    const url = `http://${listening}/events/cloudstack`;
    const failed: BucketEvent = { type: 'BUCKET.DELETE', bucketUuid: goneRow.uuid, failed: true };

    // Act
    const forged = await postWebhook(url, failed, SECRET, 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    const unsigned = await postWebhook(url, failed, SECRET, '');
    const good = await postWebhook(url, failed, SECRET);
    await until('the task', () => sns.published.length >= 1);
    // The verdict's metrics come once the run is done, just after the task (its marks are written first).
    const metricsText = () => fetch(`http://${listening}/metrics`).then((r) => r.text());
    await until('the verdict counted', async () =>
      /csdrift_event_to_verdict_seconds_count 1/.test(await metricsText()),
    );

    // Assert
    expect([forged.status, unsigned.status, good.status]).toEqual([401, 401, 200]);
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    const metrics = await metricsText();
    expect(metrics).toMatch(/csdrift_events_received_total\{source="webhook"\} 1/);
    expect(metrics).toMatch(/csdrift_events_dropped_total\{source="webhook",reason="signature"\} 2/);
    expect(metrics).toMatch(/csdrift_event_to_verdict_seconds_count 1/);
    expect(metrics).toMatch(
      /csdrift_open_findings\{rule="bucket-missing-in-store",severity="high",store="ceph-1"\} 1/,
    );
    const health = (await (await fetch(`http://${listening}/healthz`)).json()) as {
      status: string;
      sources: Record<string, string>;
    };
    expect(health.status).toBe('ok');
    expect(Object.entries(health.sources)).toEqual([['webhook', expect.stringMatching(/^up: /)]]);
    expect(lines).toContainEqual(
      expect.stringMatching(/auditing 1 bucket\(s\) on store ceph-1 for 1 event\(s\)/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^webhook: refused a delivery: bad or missing X-CS-Signature/),
    );

    // Act: a bucket in sync says nothing; the missing one re-created is one resolved message
    await postWebhook(url, { type: 'BUCKET.UPDATE', bucketUuid: photosRow.uuid }, SECRET);
    await ctx.cloud.createInStore(gone, alice.keys);
    await postWebhook(url, { type: 'BUCKET.UPDATE', bucketUuid: goneRow.uuid }, SECRET);
    await until('the resolved message', () => sns.published.length >= 2);
    await new Promise((r) => setTimeout(r, 1000));

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store', 'resolved bucket-missing-in-store']);
    expect(sns.published.some((m) => m.message.includes(photos))).toBe(false);
  });

  it('runs the full audit on its cron in the same process, and says when it last succeeded', async () => {
    // Prepare: the seed case, and a schedule every two seconds (croner takes a seconds field)
    const { gone } = await cloud();
    const listening = await startWatcher({ fullAudit: { cron: '*/2 * * * * *', timeZone: 'Europe/Berlin' } });

    // Act
    await until('a full audit', () => lines.some((l) => /^full audit \S+: drift/.test(l)), 30_000);
    const metrics = await (await fetch(`http://${listening}/metrics`)).text();

    // Assert: a full audit tells as a full audit does (its task and its digest), once
    // (a later tick may have begun another run by now: look at the first one's messages)
    expect(kinds().slice(0, 2)).toEqual(['task bucket-missing-in-store', 'digest all']);
    expect(sns.published[0]?.message).toContain(gone);
    const success = Number(/^csdrift_last_full_audit_success_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(Date.now() / 1000 - success).toBeLessThan(30);
  });

  it('the event table: rows after the cursor become audits; the cursor survives a restart', async () => {
    // Prepare
    const { goneRow, photosRow } = await cloud();
    const conn = ctx.cloud.database.conn;
    await insertEventRow(conn, {
      type: 'BUCKET.DELETE',
      bucketUuid: goneRow.uuid,
      bucketId: goneRow.id,
      failed: true,
    });
    await startWatcher({ cloudstack: { pollEventsSeconds: 1 } });
    await until('the first poll', () => lines.some((l) => l.includes('reading cloud.event')));

    // Act: history before the first start is the nightly audit's; what comes after is the watcher's
    await insertEventRow(conn, { type: 'BUCKET.UPDATE', bucketUuid: photosRow.uuid, bucketId: photosRow.id });
    await insertEventRow(conn, {
      type: 'BUCKET.DELETE',
      bucketUuid: goneRow.uuid,
      bucketId: goneRow.id,
      failed: true,
    });
    await until('the task', () => sns.published.length >= 1);
    await watcher?.stop();
    watcher = undefined;
    await startWatcher({ cloudstack: { pollEventsSeconds: 1 } });
    await new Promise((r) => setTimeout(r, 2500));

    // Assert
    expect(kinds()).toEqual(['task bucket-missing-in-store']);
    expect(lines.filter((l) => l.includes('-> bucket')).length).toBe(2); // photos in sync, gone drifting
  });
});
