import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudStackDriftAuditorProps } from '../../infra/construct.js';
import { CloudStackDriftAuditorStack } from '../../infra/stack.js';

const NETWORK = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  subnetIds: ['subnet-0a', 'subnet-0b'],
  securityGroupIds: ['sg-0c'],
};
const DB_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:csdrift/db-AbCdEf';
const outdirs: string[] = [];

function synth(props: Partial<CloudStackDriftAuditorProps> = {}, nag = false) {
  const outdir = mkdtempSync(join(tmpdir(), 'csdrift-cdk-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new CloudStackDriftAuditorStack(app, 'Test', {
    env: { account: '123456789012', region: 'eu-west-1' },
    auditor: { network: NETWORK, dbSecret: DB_SECRET, ...props },
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

afterEach(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('CloudStackDriftAuditor', () => {
  it('schedules the audit nightly at 02:00 UTC by default, in the time zone asked', () => {
    synth().template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
    });
    const { template } = synth({ schedule: { expression: 'cron(30 1 * * ? *)', timeZone: 'Europe/Berlin' } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: {
        Input: Match.serializedJson(
          Match.objectLike({ source: 'aws.scheduler', 'detail-type': 'Scheduled Event' }),
        ),
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    });
  });

  it('runs the audit on Node.js 22, ARM64, in the VPC, traced, one at a time, with a dead-letter queue and its environment', () => {
    const { template } = synth({ storeSecrets: { 'ceph-1': 'csdrift/ceph-1' } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 1,
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      VpcConfig: { SubnetIds: NETWORK.subnetIds, SecurityGroupIds: NETWORK.securityGroupIds },
      Environment: {
        Variables: Match.objectLike({
          DB_SECRET_ID: DB_SECRET,
          REPORT_URI: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
          TOPIC_ARN: Match.objectLike({ Ref: Match.stringLikeRegexp('Tasks') }),
          STORE_SECRETS: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
          WRAP_UP_MS: '60000',
        }),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('grants least privilege: its secrets to read, its report prefix to write, its topic to publish to', () => {
    const { template } = synth();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('AuditServiceRoleDefaultPolicy') },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (
          p as {
            Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const actions = (s: { Action: string | string[] }) => [s.Action].flat();
    const secret = statements.filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secret.flatMap(actions).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(secret.map((s) => s.Resource)).toEqual([DB_SECRET]);
    const s3 = statements.filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(JSON.stringify(s3.map((s) => s.Resource))).toContain('/audits/*');
    expect(s3.flatMap(actions)).not.toContain('s3:*');
    const sns = statements.filter((s) => actions(s).includes('sns:Publish'));
    expect(sns).toHaveLength(1);
    expect(JSON.stringify(sns[0]?.Resource)).toMatch(/Tasks/);
    expect(statements.flatMap(actions).filter((a) => a.endsWith(':*'))).toEqual([]);
  });

  it('reads a store secret named in the config (stores.<store>.secretId) as it reads storeSecrets, with its grant', () => {
    const { template } = synth({ config: { stores: { 'minio-1': { secretId: 'csdrift/minio-1' } } } });
    const policies = JSON.stringify(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('AuditServiceRoleDefaultPolicy') },
      }),
    );
    expect(policies).toContain('secret:csdrift/minio-1');
    const fns = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(fns).toMatch(/STORE_SECRETS.*minio-1/);
  });

  it('keeps reports in a KMS-encrypted, private, TLS-only, versioned bucket whose old runs expire', () => {
    const { template } = synth({ reportBucket: { expireRunsAfterDays: 30 } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'audits/runs/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'audits/scans/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'audits/slack-clicks/', ExpirationInDays: 1, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('uses an existing bucket when one is named, and creates none', () => {
    const { template } = synth({ reportBucket: { existingBucketName: 'acme-drift-reports' } });
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('encrypts the tasks topic, subscribes emails, and can be FIFO', () => {
    const { template } = synth({ emails: ['ops@example.com', 'storage@example.com'] });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    synth({ fifo: true }).template.hasResourceProperties('AWS::SNS::Topic', {
      FifoTopic: true,
      TopicName: 'Auditor-tasks.fifo',
    });
  });

  it('subscribes the Slack notifier only when a webhook secret is given', () => {
    synth().template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    const { template } = synth({ slackWebhookSecret: 'csdrift/slack' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SLACK_WEBHOOK_SECRET_ID: Match.anyValue() }) },
    });
  });

  it('alarms on errors, throttles, no run in 26 hours, an unverified store and dead letters', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RunsCompleted',
      Namespace: 'CloudStackDriftAuditor',
      Period: 3600,
      EvaluationPeriods: 26,
      DatapointsToAlarm: 26,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('Tasks') })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'StoresUnverified',
      Statistic: 'Maximum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Throttles',
      Namespace: 'AWS/Lambda',
    });
  });

  it('fans out through a Distributed Map over the shard manifest, its results written to the report bucket', () => {
    const { app, template } = synth({ fanOut: { maxConcurrency: 4, shards: 16 } }, true);
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines)).toHaveLength(1);
    const machine = Object.values(machines)[0] as { Properties: { DefinitionString: unknown } };
    // The definition is a Fn::Join of text and references: read as the text Step Functions gets.
    const text = JSON.stringify(machine.Properties.DefinitionString);
    const joined = (
      (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? []
    )
      .map((part) => (typeof part === 'string' ? part : '<ref>'))
      .join('');
    const definition = JSON.parse(joined.replace(/<ref>/g, 'REF')) as {
      States: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(definition.States)).toEqual(['ListShards', 'ScanEachShard', 'Merge']);
    const map = definition.States.ScanEachShard as Record<string, unknown>;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor).toMatchObject({ ProcessorConfig: { Mode: 'DISTRIBUTED' } });
    expect(map.MaxConcurrency).toBe(4);
    // The items: the manifest the list step wrote, named by its output.
    expect(map.ItemReader).toMatchObject({
      Resource: 'arn:REF:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { Bucket: 'REF', 'Key.$': '$.manifest.key' },
    });
    expect(map.ItemSelector).toMatchObject({
      'store.$': '$$.Map.Item.Value.store',
      'shard.$': '$$.Map.Item.Value.shard',
      'partitions.$': '$$.Map.Item.Value.partitions',
    });
    // The shards' outputs: written to the report bucket, never carried in the state.
    expect(map.ResultWriter).toMatchObject({
      Resource: 'arn:REF:states:::s3:putObject',
      Parameters: { Bucket: 'REF', Prefix: 'audits/fanout-results' },
    });
    expect(map.ResultPath).toBe('$.results');
    expect(definition.States.Merge?.Parameters).toMatchObject({
      step: 'merge',
      'manifest.$': '$.manifest',
      'results.$': '$.results.ResultWriterDetails',
    });
    expect(text).toContain('ScanShard');
    // The shard count reaches the list step; the state machine may read the manifest and write results.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('fan-out'),
      Environment: { Variables: Match.objectLike({ CSDRIFT_FANOUT_SHARDS: '16' }) },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('s3:GetObject');
    expect(policies).toContain('s3:PutObject');
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: { Arn: Match.objectLike({ Ref: Match.stringLikeRegexp('AuditStateMachine') }) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
    });
    expect(() => app.synth()).not.toThrow(); // cdk-nag (AwsSolutions): every acknowledgement with a reason
    // auto by default: one shard per 100,000 of a store's rows, decided when the list step runs.
    synth({ fanOut: {} }).template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('fan-out'),
      Environment: { Variables: Match.objectLike({ CSDRIFT_FANOUT_SHARDS: 'auto' }) },
    });
  });

  it('adds the remediate function only when the CloudStack API is given, its keys read from their secret', () => {
    synth().template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Description: Match.stringLikeRegexp('guarded remediation') },
      0,
    );
    const { template } = synth({
      remediation: {
        apiUrl: 'https://cloudstack.example/client/api',
        apiSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:csdrift/api-XyZ123',
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('guarded remediation'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          CSDRIFT_CONFIG: Match.stringLikeRegexp(
            '"secretId":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:csdrift/api-XyZ123"',
          ),
        }),
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"apiKey"|"secretKey"/);
  });

  it('adds the events path only when asked: an encrypted queue whose batching window is the debounce, feeding targeted audits', () => {
    expect(synth().template.findResources('AWS::SQS::Queue')).toSatisfy(
      (queues: object) => Object.keys(queues).length === 1, // the dead letters of the audit only
    );
    const { template } = synth({
      events: { pollMinutes: 1, webhookSecret: 'csdrift/webhook', batchingWindowSeconds: 15 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.anyValue(),
      VisibilityTimeout: 1800,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 15,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    // The poller: every minute, one at a time, in the VPC, allowed to send to the queue.
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('cloud.event'),
      ReservedConcurrentExecutions: 1,
      VpcConfig: Match.objectLike({ SubnetIds: ['subnet-0a', 'subnet-0b'] }),
      Environment: { Variables: Match.objectLike({ EVENT_QUEUE_URL: Match.anyValue() }) },
    });
    // The webhook endpoint: a function URL (CloudStack cannot sign with SigV4: X-CS-Signature is checked), outside the VPC.
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    const webhook = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('webhooks') },
    });
    const [fn] = Object.values(webhook) as { Properties: Record<string, unknown> }[];
    expect(fn?.Properties.VpcConfig).toBeUndefined();
    expect(JSON.stringify(fn?.Properties.Environment)).toMatch(/WEBHOOK_SECRET_ID/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('dead-letter queue'),
    });
  });

  const REMEDIATION = {
    apiUrl: 'https://cloudstack.example/client/api',
    apiSecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:csdrift/api-XyZ123',
  };

  it('adds the Slack buttons only when asked: a function URL outside the VPC handing clicks to the remediate function', () => {
    expect(() => synth({ slackActions: { signingSecret: 'csdrift/slack-signing' } })).toThrow(
      /slackActions needs remediation/,
    );
    const { template } = synth({
      remediation: REMEDIATION,
      slackWebhookSecret: 'csdrift/slack',
      slackActions: { signingSecret: 'csdrift/slack-signing' },
    });
    const found = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('Slack button clicks') },
    });
    const [fn] = Object.values(found) as { Properties: Record<string, unknown> }[];
    expect(fn?.Properties.VpcConfig).toBeUndefined();
    expect(JSON.stringify(fn?.Properties.Environment)).toMatch(
      /SLACK_SIGNING_SECRET_ID.*CLICK_WORKER_FUNCTION/,
    );
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasOutput('SlackActionsUrl', { Value: Match.anyValue() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction', Effect: 'Allow' })]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('posts remediation tasks'),
      Environment: { Variables: Match.objectLike({ SLACK_INTERACTIVE: 'true' }) },
    });
    expect(synth().template.findOutputs('SlackActionsUrl')).toEqual({});
  });

  it('gives the event audits the CloudStack API when self-healing is on, and only then', () => {
    const events = { pollMinutes: 1 };
    const eventAuditConfig = (config: Record<string, unknown>) => {
      const { template } = synth({ remediation: REMEDIATION, events, config });
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function', {
          Properties: { Description: Match.stringLikeRegexp('targeted audits') },
        }),
      ) as { Properties: { Environment: { Variables: { CSDRIFT_CONFIG: string } } } }[];
      return JSON.parse(fn?.Properties.Environment.Variables.CSDRIFT_CONFIG ?? '{}') as Record<
        string,
        unknown
      >;
    };
    expect(eventAuditConfig({}).cloudstack).toBeUndefined();
    expect(eventAuditConfig({ remediation: { auto: { failedDeletes: true } } }).cloudstack).toEqual({
      apiUrl: REMEDIATION.apiUrl,
      secretId: REMEDIATION.apiSecret,
    });
  });

  it('passes cdk-nag (AwsSolutions) with self-healing and the Slack buttons', () => {
    const { app } = synth(
      {
        remediation: REMEDIATION,
        slackWebhookSecret: 'csdrift/slack',
        slackActions: { signingSecret: 'csdrift/slack-signing' },
        events: { pollMinutes: 1 },
        config: { remediation: { auto: { failedDeletes: true }, approvers: ['U024BE7LH'] } },
      },
      true,
    );
    expect(() => app.synth()).not.toThrow();
  });

  it('passes cdk-nag (AwsSolutions) with the events path, every acknowledgement carrying a reason', () => {
    const { app } = synth({ events: { pollMinutes: 1, webhookSecret: 'csdrift/webhook' } }, true);
    expect(() => app.synth()).not.toThrow();
  });

  it('passes cdk-nag (AwsSolutions) with every acknowledgement carrying a reason', () => {
    const { app } = synth(
      {
        slackWebhookSecret: 'csdrift/slack',
        emails: ['ops@example.com'],
        storeSecrets: { 'ceph-1': 'csdrift/ceph-1' },
      },
      true,
    );
    expect(() => app.synth()).not.toThrow();
  });
});

describe('cdk synth', () => {
  it('runs offline with no AWS credentials and writes the template', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'csdrift-synth-'));
    outdirs.push(outdir);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const { stdout } = await promisify(execFile)(
      'npx',
      ['cdk', 'synth', '--no-notices', '-q', '-o', outdir],
      {
        env: { ...env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
        cwd: new URL('../..', import.meta.url).pathname,
        timeout: 120_000,
      },
    );
    expect(stdout).not.toMatch(/ERROR/);
  });
});
