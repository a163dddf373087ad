// The Lambda handlers, invoked as Lambda would, against MariaDB and the live RGW; Secrets Manager and
// SNS are played by local endpoints through the SDK's endpoint variables.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SNSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import type { RemediationRecord } from '../../functions/core/remediation.js';
import type * as AuditHandlers from '../../functions/handlers/audit.js';
import type * as FanOutHandlers from '../../functions/handlers/fanout.js';
import type * as RemediateHandlers from '../../functions/handlers/remediate.js';
import type * as SlackHandlers from '../../functions/handlers/slack-notifier.js';
import { SecretsStandIn, SlackReceiver, SnsStandIn } from '../support/aws-standins.js';
import { bucketName, s3For } from '../support/cloud.js';
import { CloudStackStandIn } from '../support/cloudstack-standin.js';
import { FaultProxy } from '../support/fault-proxy.js';
import type { ListedRun, ObjectPlace } from '../support/map-run.js';
import { playMapRun } from '../support/map-run.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { bundleHandler } from '../support/bundle.js';
import { HANDLER_ENTRIES } from '../../infra/bundling.js';
import {
  dbSecret,
  freshHandler,
  lambdaContext,
  lambdaEnv,
  reportBucketSuppression,
} from '../support/lambda.js';

const ceph = inject('ceph');
const runNode = (args: string[], options: { env: NodeJS.ProcessEnv; timeout: number }) =>
  promisify(execFile)(process.execPath, args, options);

/** What every function under test sees (test/support/lambda.ts). */
const functionEnv = (secretsUrl: string, more: Record<string, string>) => lambdaEnv(ceph, secretsUrl, more);

type AuditModule = typeof AuditHandlers;
const SCHEDULE_EVENT = {
  source: 'aws.scheduler',
  'detail-type': 'Scheduled Event',
  time: '2026-11-24T02:00:00Z',
};

describe('the audit function', () => {
  const ctx = cephCloudPerTest('4.21');
  let secrets: SecretsStandIn;
  let sns: SnsStandIn;
  let reports: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    const { db } = ctx.cloud.database;
    sns = await new SnsStandIn().start();
    secrets = await new SecretsStandIn({
      'csdrift/db': dbSecret(db),
      'csdrift/store': JSON.stringify({
        accessKey: ceph.systemAdmin.accessKey,
        secretKey: ceph.systemAdmin.secretKey,
      }),
    }).start();
    reports = bucketName('reports');
    await s3For(ceph.endpoint, ceph.systemAdmin).send(new CreateBucketCommand({ Bucket: reports }));
    env = functionEnv(secrets.url, {
      REPORT_URI: `s3://${reports}/audits`,
      TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks',
      CSDRIFT_CONFIG: JSON.stringify({
        scan: { requestTimeoutMs: 1500, maxAttempts: 2 },
        suppressions: [reportBucketSuppression(reports)],
      }),
      AWS_ENDPOINT_URL_SNS: sns.url,
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([sns.stop(), secrets.stop()]);
  });

  async function plantSeedCase(url?: string, keys = ceph.systemAdmin) {
    const store = await ctx.cloud.store('ceph-1', keys, url);
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('photos');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    return gone;
  }

  it('runs on the schedule event, writes to the report bucket, publishes, and returns the contract result', async () => {
    const gone = await plantSeedCase();
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', env);

    const result = await handler(SCHEDULE_EVENT, lambdaContext());

    expect(result).toMatchObject({
      status: 'drift',
      summary: { findings: 2, new: 1, suppressed: 1 },
      reportUri: expect.stringMatching(new RegExp(`^s3://${reports}/audits/runs/.*/report\\.html$`)),
    });
    expect(Object.keys(result)).toEqual(['runId', 'status', 'summary', 'reportUri']);
    expect(sns.published.map((m) => m.subject)).toEqual([
      `[high] bucket-missing-in-store: ${gone} on ceph-1`,
      expect.stringMatching(/^\[csdrift\] drift/),
    ]);
    const latest = await s3For(ceph.endpoint, ceph.systemAdmin).send(
      new GetObjectCommand({ Bucket: reports, Key: 'audits/latest/report.json' }),
    );
    expect((JSON.parse((await latest.Body?.transformToString()) ?? '') as Report).trigger).toBe('schedule');
  });

  it('runs a manual payload: scope, dry run and no notification', async () => {
    await plantSeedCase();
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', env);

    const result = await handler(
      { stores: ['ceph-1'], rules: ['bucket-missing-in-store'], dryRun: true, notify: false },
      lambdaContext(),
    );
    const again = await handler({ stores: ['ceph-1'], rules: ['bucket-missing-in-store'] }, lambdaContext());

    expect(result.summary).toMatchObject({ findings: 1, new: 1 }); // --rule scope: the missing bucket only
    expect(again.summary).toMatchObject({ new: 1 }); // the dry run left no ledger behind
    expect(sns.published.filter((m) => m.attributes.kind === 'task')).toHaveLength(1);
  });

  it.each([
    ['a wrong type', { stores: 'ceph-1' }, /payload: stores: .*expected .*\{ stores\?/],
    ['an unknown key', { store: ['ceph-1'] }, /payload: \(top level\): unknown key "store"/],
    ['an unknown rule', { rules: ['bucket-gone'] }, /payload: rules\.0:/],
    [
      'an event that is not the schedule',
      { source: 'aws.s3', 'detail-type': 'Object Created' },
      /payload: \(top level\): not a schedule event \(source: /,
    ],
  ])('refuses %s before any work', async (_label, payload, message) => {
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', env);
    await expect(handler(payload, lambdaContext())).rejects.toThrow(message);
    expect(secrets.received).toBe(0);
  });

  it('takes store keys from a store secret', async () => {
    await plantSeedCase(undefined, { accessKey: 'WRONGKEY000000000000', secretKey: 'wrong' });
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', {
      ...env,
      STORE_SECRETS: JSON.stringify({ 'ceph-1': 'csdrift/store' }),
    });
    const result = await handler({ notify: false }, lambdaContext());
    expect(result.status).toBe('drift');
  });

  it('takes the database and store secrets named in its config (db.secretId, stores.<store>.secretId)', async () => {
    await plantSeedCase(undefined, { accessKey: 'WRONGKEY000000000000', secretKey: 'wrong' });
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', {
      ...env,
      DB_SECRET_ID: '', // not set by the construct here: the config names the database secret
      CSDRIFT_CONFIG: JSON.stringify({
        db: { secretId: 'csdrift/db' },
        stores: { 'ceph-1': { secretId: 'csdrift/store' } },
      }),
    });
    const result = await handler({ notify: false }, lambdaContext());
    expect(result.status).toBe('drift');
  });

  it('stops before its timeout and writes what it has as an incomplete report', async () => {
    const proxy = await new FaultProxy(ceph.endpoint).start();
    proxy.plan = () => ({ kind: 'hang' });
    await plantSeedCase(proxy.endpoint);
    const { handler } = await freshHandler<AuditModule>('../../functions/handlers/audit.js', {
      ...env,
      WRAP_UP_MS: '1000',
      CSDRIFT_CONFIG: JSON.stringify({ scan: { requestTimeoutMs: 60_000, maxAttempts: 1 } }),
    });

    const started = Date.now();
    const result = await handler({ notify: false }, lambdaContext(1800));

    expect(Date.now() - started).toBeLessThan(1800);
    expect(result.status).toBe('incomplete');
    const written = await s3For(ceph.endpoint, ceph.systemAdmin).send(
      new GetObjectCommand({ Bucket: reports, Key: 'audits/latest/report.json' }),
    );
    const report = JSON.parse((await written.Body?.transformToString()) ?? '') as Report;
    expect(report.coverage[0]).toMatchObject({
      status: 'partial',
      error: 'stopped early: the function was about to time out',
    });
    expect(report.findings.map((f) => f.rule)).toEqual(['store-unverified']);
    await proxy.stop();
  });

  it('runs as deployed: the minified bundle, with the SDK from the runtime and nothing else beside it', async () => {
    const gone = await plantSeedCase();
    await ctx.cloud.account('jörg-日本'); // non-ASCII text from the DB, decoded without iconv-lite's code pages
    const bundle = await bundleHandler(HANDLER_ENTRIES.audit);

    const { stdout } = await runNode(
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import(process.argv[1]);
         const deadline = Date.now() + 900000;
         const context = { functionName: 'csdrift-audit', awsRequestId: 'req-1', getRemainingTimeInMillis: () => deadline - Date.now() };
         process.stdout.write(JSON.stringify(await handler({ notify: false }, context)));`,
        bundle.file,
      ],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    ).finally(() => bundle.remove());

    expect(JSON.parse(stdout)).toMatchObject({ status: 'drift', summary: { new: 1 } });
    const latest = await s3For(ceph.endpoint, ceph.systemAdmin).send(
      new GetObjectCommand({ Bucket: reports, Key: 'audits/latest/report.json' }),
    );
    const report = JSON.parse((await latest.Body?.transformToString()) ?? '') as Report;
    expect(report.findings.filter((f) => f.rule === 'bucket-missing-in-store').map((f) => f.bucket)).toEqual([
      gone,
    ]);
  });
});

describe('the Slack notifier function', () => {
  it('posts each SNS message to the webhook from its secret', async () => {
    const slack = await new SlackReceiver().start();
    const secrets = await new SecretsStandIn({
      'csdrift/slack': JSON.stringify({ url: `${slack.url}/services/T/B/secret` }),
    }).start();
    const { handler } = await freshHandler<typeof SlackHandlers>(
      '../../functions/handlers/slack-notifier.js',
      {
        SLACK_WEBHOOK_SECRET_ID: 'csdrift/slack',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'us-east-1',
        SECRETS_CACHE_MS: '0',
      },
    );
    // As SNS hands a message to a subscribed function (AWS Lambda Developer Guide, "Using Lambda
    // with Amazon SNS", example event; Powertools' SnsSchema checks it).
    const record = (kind: string, subject: string) => ({
      EventVersion: '1.0',
      EventSubscriptionArn:
        'arn:aws:sns:us-east-1:123456789012:csdrift-tasks:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55',
      EventSource: 'aws:sns',
      Sns: {
        Type: 'Notification',
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks',
        Timestamp: '2026-12-04T02:05:13.000Z',
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertUrl:
          'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
        UnsubscribeUrl:
          'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:csdrift-tasks:2bcfbf39',
        MessageId: subject,
        Subject: subject,
        Message: `${subject}\n\n--- JSON ---\n{}`,
        MessageAttributes: {
          kind: { Type: 'String', Value: kind },
          store: { Type: 'String', Value: 'ceph-1' },
          severity: { Type: 'String', Value: 'high' },
          rule: { Type: 'String', Value: 'bucket-missing-in-store' },
        },
      },
    });
    const event = {
      Records: [
        record('task', '[high] bucket-missing-in-store: a on ceph-1'),
        record('digest', '[csdrift] drift: 1 new'),
      ],
    } as unknown as SNSEvent;

    const result = await handler(event, lambdaContext());

    expect(result).toEqual({ sent: 2 });
    expect(slack.posts.map((p) => p.text)).toEqual([
      '[high] bucket-missing-in-store: a on ceph-1',
      '[csdrift] drift: 1 new',
    ]);
    vi.unstubAllEnvs();
    await Promise.all([slack.stop(), secrets.stop()]);
  });
});

describe('the Step Functions fan-out', () => {
  const ctx = cephCloudPerTest('4.19');
  let secrets: SecretsStandIn;
  let reports: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    const { db } = ctx.cloud.database;
    secrets = await new SecretsStandIn({
      'csdrift/db': dbSecret(db),
    }).start();
    reports = bucketName('reports');
    await s3For(ceph.endpoint, ceph.systemAdmin).send(new CreateBucketCommand({ Bucket: reports }));
    env = functionEnv(secrets.url, {
      CSDRIFT_CONFIG: JSON.stringify({
        suppressions: [reportBucketSuppression(reports)],
      }),
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await secrets.stop();
  });

  const readReport = async (key: string) => {
    const out = await s3For(ceph.endpoint, ceph.systemAdmin).send(
      new GetObjectCommand({ Bucket: reports, Key: key }),
    );
    return JSON.parse((await out.Body?.transformToString()) ?? '') as Report;
  };
  /** What must not depend on the path taken: everything but times and the run id. */
  // The report bucket sits in the audited store and grows between the two runs: its size aside.
  const essence = (r: Report) => ({
    status: r.status,
    summary: { ...r.summary, bytes: undefined },
    findings: r.findings.map((f) => ({
      id: f.id,
      rule: f.rule,
      status: f.status,
      severity: f.severity,
      bucket: f.bucket,
      owner: f.owner,
      store: f.store,
      message: f.message.replace(/, holding [0-9.]+ [MG]iB/, ''),
      remediation: f.remediation,
    })),
    coverage: r.coverage.map(({ store, status, bucketsInDb, bucketsInStore, checks }) => ({
      store,
      status,
      bucketsInDb,
      bucketsInStore,
      checks,
    })),
  });

  it('produces the same report as the single invocation for the same inventory', async () => {
    // Prepare: a store with drift, and a Simulator store (skipped) so the map has two items
    const store = await ctx.cloud.store('ceph-1');
    await ctx.cloud.seed.store({ name: 'sim-1', provider: 'Simulator', url: 'http://simulator.invalid' });
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('photos');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    await ctx.cloud.createInStore(bucketName('rogue'), alice.keys);
    await ctx.cloud.seed.bucket({ name: bucketName('half'), store, account: alice, state: 'Allocated' });
    // Act: the single path, then the state machine's three steps as it would run them
    const single = await freshHandler<AuditModule>('../../functions/handlers/audit.js', {
      ...env,
      REPORT_URI: `s3://${reports}/single`,
    });
    await single.handler({ notify: false }, lambdaContext());
    const fanout = await freshHandler<typeof FanOutHandlers>('../../functions/handlers/fanout.js', {
      ...env,
      REPORT_URI: `s3://${reports}/fanout`,
      CSDRIFT_FANOUT_SHARDS: '2',
    });

    const input = { notify: false };
    const listed = (await fanout.handler({ step: 'list', input }, lambdaContext())) as ListedRun & {
      shards: number;
    };
    // The Distributed Map: its items from the manifest in the report bucket, results by the result writer.
    const s3 = s3For(ceph.endpoint, ceph.systemAdmin);
    const place: ObjectPlace = {
      get: async (Key) =>
        (await s3.send(new GetObjectCommand({ Bucket: reports, Key }))).Body?.transformToString() ?? '',
      put: async (Key, Body) => void (await s3.send(new PutObjectCommand({ Bucket: reports, Key, Body }))),
    };
    const results = await playMapRun(
      place,
      listed,
      (item) => fanout.handler({ step: 'scan', ...item } as FanOutHandlers.FanOutStep, lambdaContext()),
      { prefix: 'fanout/fanout-results' },
    );
    const merged = await fanout.handler(
      {
        step: 'merge',
        runId: listed.runId,
        startedAt: listed.startedAt,
        input,
        manifest: listed.manifest,
        results: results.ResultWriterDetails,
      },
      lambdaContext(),
    );

    // Assert: each store in CSDRIFT_FANOUT_SHARDS (2) shards, merged into the single invocation's report
    expect(listed.shards).toBe(4);
    expect(JSON.parse(await place.get(listed.manifest.key))).toHaveLength(4);
    expect(merged).toMatchObject({ runId: listed.runId, status: 'drift' });
    const viaSingle = await readReport('single/latest/report.json');
    const viaFanout = await readReport('fanout/latest/report.json');
    expect(viaFanout.runId).toBe(listed.runId);
    expect(essence(viaFanout)).toEqual(essence(viaSingle));
    expect(viaFanout.findings.map((f) => `${f.rule} ${f.status}`).sort()).toEqual([
      'bucket-missing-in-store new',
      'bucket-stuck-allocated new',
      'bucket-unmanaged-in-store new',
      'bucket-unmanaged-in-store suppressed', // the report bucket itself
    ]);
  });

  it('refuses a malformed step or run payload before any work', async () => {
    const fanout = await freshHandler<typeof FanOutHandlers>('../../functions/handlers/fanout.js', {
      ...env,
      REPORT_URI: `s3://${reports}/fanout`,
    });
    const malformed = { step: 'scan', input: {} } as unknown as FanOutHandlers.FanOutStep;
    await expect(fanout.handler(malformed, lambdaContext())).rejects.toThrow(/fan-out step: runId:/);
    await expect(fanout.handler({ step: 'list', input: { store: 'x' } }, lambdaContext())).rejects.toThrow(
      /fan-out step: input: unknown key "store"/,
    );
    expect(secrets.received).toBe(0);
  });
});

describe('the remediate function', () => {
  const ctx = cephCloudPerTest('4.21');
  const apiKeys = { apiKey: 'lambda-apikey', secretKey: 'lambda-secretkey-0000' };
  let secrets: SecretsStandIn;
  let cloudstack: CloudStackStandIn;
  let reports: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    const { db } = ctx.cloud.database;
    cloudstack = await new CloudStackStandIn(apiKeys, ctx.cloud.database.conn, ceph.conf).start();
    secrets = await new SecretsStandIn({
      'csdrift/db': dbSecret(db),
      'csdrift/api': JSON.stringify(apiKeys),
    }).start();
    reports = bucketName('reports');
    await s3For(ceph.endpoint, ceph.systemAdmin).send(new CreateBucketCommand({ Bucket: reports }));
    env = functionEnv(secrets.url, {
      REPORT_URI: `s3://${reports}/audits`,
      CSDRIFT_CONFIG: JSON.stringify({
        rules: { 'bucket-missing-in-store': { remediate: true } },
        cloudstack: { apiUrl: cloudstack.apiUrl, secretId: 'csdrift/api' },
        suppressions: [reportBucketSuppression(reports)],
      }),
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all([secrets.stop(), cloudstack.stop()]);
  });

  it('clears the seed case on a manual invoke, with the API keys from their secret', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('photos');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const audit = await freshHandler<AuditModule>('../../functions/handlers/audit.js', env);
    await audit.handler({ notify: false }, lambdaContext());
    await audit.handler({ notify: false }, lambdaContext());
    const latest = await s3For(ceph.endpoint, ceph.systemAdmin).send(
      new GetObjectCommand({ Bucket: reports, Key: 'audits/latest/report.json' }),
    );
    const findingId = (JSON.parse((await latest.Body?.transformToString()) ?? '') as Report).findings.find(
      (f) => f.bucket === gone,
    )?.id as string;
    const remediate = await freshHandler<typeof RemediateHandlers>(
      '../../functions/handlers/remediate.js',
      env,
    );

    await expect(remediate.handler({ findingId: 'not-an-id' }, lambdaContext())).rejects.toThrow(
      /payload: findingId: expected a finding id/,
    );
    const record = (await remediate.handler(
      { findingId, apply: true },
      lambdaContext(),
    )) as RemediationRecord;

    expect(record.steps.map((s) => s.outcome)).toEqual(['done', 'done', 'done', 'done']);
    expect(cloudstack.calls.filter((c) => c.command === 'deleteBucket').map((c) => c.signatureValid)).toEqual(
      [true],
    );
    const after = await audit.handler({ notify: false }, lambdaContext());
    expect(after.summary).toMatchObject({ resolved: 1, new: 0 });
  });
});
