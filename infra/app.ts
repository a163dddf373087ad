// The CDK app (cdk.json). Configured by context: see the README's deployment section.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { CloudStackDriftAuditorProps } from './construct.js';
import { CloudStackDriftAuditorStack } from './stack.js';

const app = new App();
const context = (key: string) => app.node.tryGetContext(key) as unknown;
const required = (key: string): string => {
  const value = context(key);
  if (typeof value !== 'string' || !value)
    throw new Error(`context ${key}: required (cdk.json or -c ${key}=…)`);
  return value;
};
const list = (key: string): string[] => {
  const value = context(key);
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value ? value.split(',').map((s) => s.trim()) : [];
};

const flag = (key: string): boolean => context(key) === true || context(key) === 'true';

const auditor: CloudStackDriftAuditorProps = {
  network: {
    vpcId: required('vpcId'),
    availabilityZones: list('availabilityZones'),
    subnetIds: list('subnetIds'),
    securityGroupIds: list('securityGroupIds'),
  },
  dbSecret: required('dbSecret'),
  storeSecrets: (context('storeSecrets') as Record<string, string> | undefined) ?? {},
  reportBucket: {
    ...(context('reportBucket') ? { existingBucketName: String(context('reportBucket')) } : {}),
    expireRunsAfterDays: Number(context('expireRunsAfterDays') ?? 90),
  },
  schedule: {
    expression: String(context('schedule') ?? 'cron(0 2 * * ? *)'),
    timeZone: String(context('timeZone') ?? 'UTC'),
  },
  emails: list('emails'),
  ...(context('slackWebhookSecret') ? { slackWebhookSecret: String(context('slackWebhookSecret')) } : {}),
  fifo: flag('fifo'),
  config: (context('auditConfig') as Record<string, unknown> | undefined) ?? {},
  ...(context('cloudstackApiUrl') && context('cloudstackApiSecret')
    ? {
        remediation: {
          apiUrl: String(context('cloudstackApiUrl')),
          apiSecret: String(context('cloudstackApiSecret')),
        },
      }
    : {}),
  ...(context('slackSigningSecret')
    ? { slackActions: { signingSecret: String(context('slackSigningSecret')) } }
    : {}),
  ...(context('eventPollMinutes') || context('webhookSecret')
    ? {
        events: {
          ...(context('eventPollMinutes') ? { pollMinutes: Number(context('eventPollMinutes')) } : {}),
          ...(context('webhookSecret') ? { webhookSecret: String(context('webhookSecret')) } : {}),
          ...(context('eventBatchingWindowSeconds')
            ? { batchingWindowSeconds: Number(context('eventBatchingWindowSeconds')) }
            : {}),
        },
      }
    : {}),
  ...(flag('fanOut')
    ? {
        fanOut: {
          maxConcurrency: Number(context('fanOutConcurrency') ?? 10),
          ...(context('fanOutShards')
            ? { shards: context('fanOutShards') === 'auto' ? 'auto' : Number(context('fanOutShards')) }
            : {}),
        },
      }
    : {}),
};

new CloudStackDriftAuditorStack(app, String(context('stackName') ?? 'CloudStackDriftAuditor'), { auditor });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
