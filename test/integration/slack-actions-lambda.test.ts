// The Slack buttons in AWS, invoked as Lambda would: the function URL's handler checks Slack's
// signature before anything else, claims the request in the report bucket (on the live RGW) and
// hands the click to the remediate function as an asynchronous invoke (the Lambda stand-in keeps
// it); the remediate function, invoked with that payload, fixes the seed case through the
// CloudStack API stand-in and posts the outcome to the click's response_url (the Slack stand-in).
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type * as RemediateModule from '../../functions/handlers/remediate.js';
import type * as SlackActionsModule from '../../functions/handlers/slack-actions.js';
import type * as EventAuditModule from '../../functions/handlers/event-audit.js';
import {
  LambdaStandIn,
  SecretsStandIn,
  SlackReceiver,
  SnsStandIn,
  SqsStandIn,
} from '../support/aws-standins.js';
import { bucketName, s3For } from '../support/cloud.js';
import { CloudStackStandIn } from '../support/cloudstack-standin.js';
import {
  dbSecret,
  freshHandler,
  functionUrlEvent,
  lambdaContext,
  lambdaEnv,
  reportBucketSuppression,
} from '../support/lambda.js';
import { signedClick } from '../support/slack-click.js';
import { cephCloudPerTest } from '../support/per-test.js';
import type { SQSEvent } from 'aws-lambda';
import { toQueueMessage } from '../../functions/sources/queued-event.js';

const ceph = inject('ceph');
const API_KEYS = { apiKey: 'lambda-apikey', secretKey: 'lambda-secretkey-0000' };
const SIGNING_SECRET = 'e3b0c44298fc1c149afbf4c8996fb924';
const APPROVER = 'U024BE7LH';

/** A signed click as the function URL hands it over: a form body comes base64-encoded. */
function signed(findingId: string, responseUrl: string, secret = SIGNING_SECRET): LambdaFunctionURLEvent {
  const click = signedClick({ secret, user: APPROVER, responseUrl, action: 'csdrift-fix', findingId });
  return functionUrlEvent(click.body, click.headers, {
    base64: true,
    userAgent: 'Slackbot 1.0 (+https://api.slack.com/robots)',
    sourceIp: '192.0.2.20',
  });
}

describe('the Slack actions function and the remediate function behind it', () => {
  const ctx = cephCloudPerTest('4.21');
  let secrets: SecretsStandIn;
  let lambda: LambdaStandIn;
  let slack: SlackReceiver;
  let sns: SnsStandIn;
  let cloudstack: CloudStackStandIn;
  let env: Record<string, string>;

  beforeEach(async () => {
    cloudstack = await new CloudStackStandIn(API_KEYS, ctx.cloud.database.conn, ceph.conf).start();
    secrets = await new SecretsStandIn({
      'csdrift/db': dbSecret(ctx.cloud.database.db),
      'csdrift/api': JSON.stringify(API_KEYS),
      'csdrift/slack-signing': SIGNING_SECRET,
    }).start();
    lambda = await new LambdaStandIn().start();
    slack = await new SlackReceiver().start();
    sns = await new SnsStandIn().start();
    const reports = bucketName('reports');
    await s3For(ceph.endpoint, ceph.systemAdmin).send(new CreateBucketCommand({ Bucket: reports }));
    env = lambdaEnv(ceph, secrets.url, {
      REPORT_URI: `s3://${reports}/audits`,
      REPORT_FORMATS: 'json',
      TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks',
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      AWS_ENDPOINT_URL_SNS: sns.url,
      SLACK_SIGNING_SECRET_ID: 'csdrift/slack-signing',
      CLICK_WORKER_FUNCTION: 'csdrift-remediate',
      // As the construct writes the remediate and event-audit functions' config.
      CSDRIFT_CONFIG: JSON.stringify({
        cloudstack: { apiUrl: cloudstack.apiUrl, secretId: 'csdrift/api' },
        remediation: { approvers: [APPROVER], auto: { failedDeletes: true } },
        suppressions: [reportBucketSuppression(reports)],
      }),
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([secrets.stop(), lambda.stop(), slack.stop(), sns.stop(), cloudstack.stop()]);
  });

  /** A CloudStack bucket event as the webhook endpoint queues it. */
  const bucketEvent = (uuid: string, type: string, failed: boolean) =>
    toQueueMessage({
      source: 'webhook',
      type,
      status: 'Completed',
      at: new Date(),
      target: { kind: 'bucket', uuid },
      failed,
    });

  /** One queued change event as Lambda's SQS event source hands it over. */
  function queue(body: string): SQSEvent {
    const sqs = new SqsStandIn();
    sqs.messages.push({ messageId: 'b8f2c1d0-0000-4000-8000-000000000001', body });
    return sqs.asEvent() as unknown as SQSEvent;
  }

  async function seedCase() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    return ctx.cloud.bucketDeletedInStore(gone, store, alice);
  }
  const removed = async (id: number) => {
    const [rows] = await ctx.cloud.database.conn.query<RowDataPacket[]>(
      'SELECT removed FROM bucket WHERE id = ?',
      [id],
    );
    return rows[0]?.removed !== null;
  };

  it('refuses a forged or replayed click with 401 before anything else, and hands a valid one on at once', async () => {
    const row = await seedCase();
    const { handler: url } = await freshHandler<typeof SlackActionsModule>(
      '../../functions/handlers/slack-actions.js',
      env,
    );
    const { handler: remediate } = await freshHandler<typeof RemediateModule>(
      '../../functions/handlers/remediate.js',
      env,
    );
    // The finding, as one audit of the event path records it (the same engine as the nightly audit).
    const { handler: eventAudit } = await freshHandler<typeof EventAuditModule>(
      '../../functions/handlers/event-audit.js',
      {
        ...env,
        CSDRIFT_CONFIG: JSON.stringify({
          ...JSON.parse(env.CSDRIFT_CONFIG ?? '{}'),
          remediation: { approvers: [APPROVER] },
        }),
      },
    );
    await eventAudit(queue(bucketEvent(row.uuid, 'BUCKET.UPDATE', false)), lambdaContext());
    const task = sns.published.find((m) => m.attributes.kind === 'task');
    const findingId = /"findingId":\s*"([0-9a-f]{32})"/.exec(task?.message ?? '')?.[1] as string;
    const responseUrl = `${slack.url}/actions/T0001/2/r`;

    const forged = await url(signed(findingId, responseUrl, 'another-secret'), lambdaContext());
    const good = signed(findingId, responseUrl);
    const accepted = await url(good, lambdaContext());
    const replayed = await url(good, lambdaContext());

    const status = (r: unknown) => (r as { statusCode: number }).statusCode;
    expect([forged, accepted, replayed].map(status)).toEqual([401, 200, 401]);
    expect(findingId).toMatch(/^[0-9a-f]{32}$/);
    expect(lambda.invocations).toHaveLength(1);
    const [invocation] = lambda.invocations;
    expect(invocation).toMatchObject({ functionName: 'csdrift-remediate', invocationType: 'Event' });
    expect(await removed(row.id)).toBe(false); // nothing is done in the URL's 3 seconds

    const outcome = await remediate(invocation?.payload as RemediateModule.RemediatePayload, lambdaContext());

    expect(outcome).toMatchObject({ outcome: 'done' });
    expect(await removed(row.id)).toBe(true);
    expect(String(slack.responses[0]?.text)).toMatch(
      /fixed by @ops-anna at \d\d:\d\d UTC: bucket removed from CloudStack/,
    );
    expect(cloudstack.calls.filter((c) => c.command === 'deleteBucket').map((c) => c.signatureValid)).toEqual(
      [true],
    );
  });

  it('the event-audit function heals a failed delete under the same config, with one healed message', async () => {
    const row = await seedCase();
    const { handler: eventAudit } = await freshHandler<typeof EventAuditModule>(
      '../../functions/handlers/event-audit.js',
      env,
    );
    const queued = bucketEvent(row.uuid, 'BUCKET.DELETE', true);

    await eventAudit(queue(queued), lambdaContext());

    expect(await removed(row.id)).toBe(true);
    expect(sns.published.map((m) => m.attributes.kind)).toEqual(['healed']);
  });
});
