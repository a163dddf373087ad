// The AWS events path's functions, invoked as Lambda would: the webhook endpoint and the event-table
// poller put CloudStack's events on the queue (the SQS stand-in), and the event audit function turns
// a batch of them into targeted audits of the live RGW whose tasks reach the SNS stand-in.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type * as AuditModule from '../../functions/handlers/event-audit.js';
import type * as PollModule from '../../functions/handlers/event-poll.js';
import type * as WebhookModule from '../../functions/handlers/event-webhook.js';
import { webhookSignature } from '../../functions/sources/webhook-signature.js';
import { SecretsStandIn, SnsStandIn, SqsStandIn } from '../support/aws-standins.js';
import { bucketName, s3For } from '../support/cloud.js';
import type { BucketEvent } from '../support/cloudstack-events.js';
import { busBody, insertEventRow } from '../support/cloudstack-events.js';
import {
  dbSecret,
  freshHandler,
  functionUrlEvent,
  lambdaContext,
  lambdaEnv,
  reportBucketSuppression,
} from '../support/lambda.js';
import { cephCloudPerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const SECRET = 's3cr3t-webhook-key';

/** CloudStack's webhook delivery (WebhookDeliveryThread.java) as the function URL hands it over. */
function urlEvent(body: string, signature: string | undefined): LambdaFunctionURLEvent {
  return functionUrlEvent(
    body,
    {
      'content-type': 'application/json; charset=UTF-8',
      'x-cs-event': 'BUCKET.DELETE',
      ...(signature !== undefined ? { 'x-cs-signature': signature } : {}),
    },
    { userAgent: 'CloudStack-Webhook' },
  );
}

describe('the AWS events path', () => {
  const ctx = cephCloudPerTest('4.21');
  let secrets: SecretsStandIn;
  let sns: SnsStandIn;
  let sqs: SqsStandIn;
  let env: Record<string, string>;
  let reports: string;

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    sqs = await new SqsStandIn().start();
    secrets = await new SecretsStandIn({
      'csdrift/db': dbSecret(ctx.cloud.database.db),
      'csdrift/webhook': SECRET,
    }).start();
    reports = bucketName('reports');
    await s3For(ceph.endpoint, ceph.systemAdmin).send(new CreateBucketCommand({ Bucket: reports }));
    env = lambdaEnv(ceph, secrets.url, {
      REPORT_URI: `s3://${reports}/audits`,
      REPORT_FORMATS: 'json',
      TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks',
      CSDRIFT_CONFIG: JSON.stringify({ suppressions: [reportBucketSuppression(reports)] }),
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ENDPOINT_URL_SQS: sqs.url,
      EVENT_QUEUE_URL: `${sqs.url}/123456789012/csdrift-events`,
      WEBHOOK_SECRET_ID: 'csdrift/webhook',
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([sns.stop(), sqs.stop(), secrets.stop()]);
  });

  async function seedCase() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    const row = await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    return { gone, row };
  }

  async function auditQueued() {
    const { handler } = await freshHandler<typeof AuditModule>(
      '../../functions/handlers/event-audit.js',
      env,
    );
    return handler(sqs.asEvent() as unknown as SQSEvent, lambdaContext());
  }

  it('webhook: a signed failed delete is queued (200), then audited into one task; a bad signature is refused', async () => {
    // Prepare
    const { gone, row } = await seedCase();
    const { handler } = await freshHandler<typeof WebhookModule>(
      '../../functions/handlers/event-webhook.js',
      env,
    );
    const failed: BucketEvent = { type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true };
    const body = busBody(failed);

    // Act
    const forged = await handler(
      urlEvent(body, webhookSignature('another-key', Buffer.from(body))),
      lambdaContext(),
    );
    const unsigned = await handler(urlEvent(body, undefined), lambdaContext());
    const good = await handler(urlEvent(body, webhookSignature(SECRET, Buffer.from(body))), lambdaContext());
    const queued = sqs.messages.length;
    const result = await auditQueued();

    // Assert
    expect([forged, unsigned, good].map((r) => (r as { statusCode: number }).statusCode)).toEqual([
      401, 401, 200,
    ]);
    expect(queued).toBe(1);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns.published.map((m) => `${m.attributes.kind} ${m.attributes.rule}`)).toEqual([
      'task bucket-missing-in-store',
    ]);
    expect(sns.published[0]?.message).toContain(gone);
  });

  it('webhook: answers 500, not 200, when the event cannot be queued, so CloudStack tries again', async () => {
    const { row } = await seedCase();
    const { handler } = await freshHandler<typeof WebhookModule>(
      '../../functions/handlers/event-webhook.js',
      env,
    );
    const body = busBody({ type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true });
    sqs.refuse = true;

    await expect(
      handler(urlEvent(body, webhookSignature(SECRET, Buffer.from(body))), lambdaContext()),
    ).rejects.toThrow();
  });

  it('poller: starts at the newest event, queues what comes after, and moves its cursor', async () => {
    // Prepare
    const { gone, row } = await seedCase();
    const conn = ctx.cloud.database.conn;
    await insertEventRow(conn, {
      type: 'BUCKET.DELETE',
      bucketUuid: row.uuid,
      bucketId: row.id,
      failed: true,
    });
    const { handler } = await freshHandler<typeof PollModule>('../../functions/handlers/event-poll.js', env);

    // Act
    const first = await handler({ source: 'aws.scheduler' }, lambdaContext());
    const later = await insertEventRow(conn, {
      type: 'BUCKET.DELETE',
      bucketUuid: row.uuid,
      bucketId: row.id,
      failed: true,
    });
    const second = await handler({ source: 'aws.scheduler' }, lambdaContext());
    const third = await handler({ source: 'aws.scheduler' }, lambdaContext());
    const result = await auditQueued();

    // Assert
    expect(first.queued).toBe(0); // history is the nightly audit's
    expect(second).toEqual({ queued: 1, cursor: later });
    expect(third).toEqual({ queued: 0, cursor: later });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sns.published.map((m) => m.attributes.kind)).toEqual(['task']);
    expect(sns.published[0]?.message).toContain(gone);
  });

  it('audit: a 40-bucket storm over four SQS batches gives one "investigate" task, then quiet, as in the watcher', async () => {
    // Prepare: a script deletes 40 buckets in the store; CloudStack's deletes of them all fail
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const { handler: webhook } = await freshHandler<typeof WebhookModule>(
      '../../functions/handlers/event-webhook.js',
      env,
    );
    for (let i = 0; i < 40; i++) {
      const row = await ctx.cloud.bucketDeletedInStore(bucketName(`s${i}`), store, alice);
      const body = busBody({ type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true });
      await webhook(urlEvent(body, webhookSignature(SECRET, Buffer.from(body))), lambdaContext());
    }
    const { handler } = await freshHandler<typeof AuditModule>(
      '../../functions/handlers/event-audit.js',
      env,
    );
    const { Records } = sqs.asEvent();

    // Act: each batch in its own invocation, as SQS hands them over when the storm outlasts a window
    const results = [];
    for (let i = 0; i < Records.length; i += 10)
      results.push(
        await handler({ Records: Records.slice(i, i + 10) } as unknown as SQSEvent, lambdaContext()),
      );

    // Assert: tasks until the breaker (25) trips on what earlier invocations told, read from the ledger
    expect(results.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    const subjects = sns.published.map((m) => m.subject);
    const investigate = subjects.filter((s) => /investigate store ceph-1/.test(s));
    expect(investigate).toEqual(['[high] investigate store ceph-1: 10 new findings']);
    expect(subjects).toHaveLength(21); // 20 told one by one by the first two batches, then one task for the rest
    expect(subjects.indexOf(investigate[0] as string)).toBe(20);
    expect(sns.published[20]?.message).toContain('20 more new finding(s) on this store were told one by one');
  });

  it('audit: an event whose audit fails is handed back to SQS as a batch item failure', async () => {
    const { row } = await seedCase();
    const { handler } = await freshHandler<typeof WebhookModule>(
      '../../functions/handlers/event-webhook.js',
      env,
    );
    const body = busBody({ type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true });
    await handler(urlEvent(body, webhookSignature(SECRET, Buffer.from(body))), lambdaContext());
    const [message] = sqs.messages;
    env.REPORT_URI = 's3://no-such-report-bucket-csdrift/audits'; // writing the verdict fails

    const result = await auditQueued();

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: message?.messageId }] });
    expect(sns.published).toEqual([]);
  });
});
