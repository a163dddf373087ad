// The opt-in events path in AWS, continuous mode without a broker: an event-table poller on a short
// schedule and a webhook endpoint (a function URL checking X-CS-Signature) put CloudStack's change
// events on an encrypted queue; its batching window is the debounce, and the event audit function
// turns each batch into targeted audits. Failed items come back; poison ones go to a dead-letter queue.
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction, NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { HANDLER_ENTRIES } from './bundling.js';
import { acknowledgeAll, logicalId } from './nag.js';

export interface EventsPathProps {
  /** Read cloud.event for bucket and object store events every this many minutes (needs SELECT on cloud.event). */
  pollMinutes?: number;
  /** A secret holding the CloudStack webhook's secret (a plain string): adds the webhook endpoint. */
  webhookSecret?: ISecret;
  /** How long the queue gathers events before an audit: the debounce. Default 20 s (at most 300). */
  batchingWindowSeconds?: number;
}

export interface EventsPathDeps {
  key: Key;
  topic: ITopic;
  /** A function of the construct's kind: in the VPC unless said otherwise. */
  lambda: (
    id: string,
    entry: string,
    more: Partial<NodejsFunctionProps>,
    outsideVpc?: boolean,
  ) => NodejsFunction;
  /** What every audit-running function is granted: its secrets, the report prefix, the topic. */
  grantAudit: (fn: NodejsFunction) => void;
  auditEnvironment: Record<string, string>;
  reportGrantReasons: Record<string, string>;
}

export interface EventsPath {
  queue: Queue;
  auditFunction: NodejsFunction;
  pollFunction?: NodejsFunction;
  webhookFunction?: NodejsFunction;
  webhookUrl?: FunctionUrl;
  alarms: Alarm[];
}

export function eventsPath(scope: Construct, props: EventsPathProps, deps: EventsPathDeps): EventsPath {
  const timeout = Duration.minutes(5);
  const deadLetters = new Queue(scope, 'EventDeadLetters', {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: deps.key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new Queue(scope, 'Events', {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: deps.key,
    enforceSSL: true,
    // Six times the consumer's timeout, as AWS advises, so a batch in flight is never handed out twice.
    visibilityTimeout: Duration.minutes(30),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
  });

  const auditFunction = deps.lambda('EventAudit', HANDLER_ENTRIES.eventAudit, {
    description: 'csdrift: targeted audits of the buckets CloudStack change events name',
    memorySize: 1024,
    timeout,
    environment: deps.auditEnvironment,
  });
  deps.grantAudit(auditFunction);
  acknowledgeAll(auditFunction, deps.reportGrantReasons);
  auditFunction.addEventSource(
    new SqsEventSource(queue, {
      batchSize: 1000,
      maxBatchingWindow: Duration.seconds(Math.min(300, props.batchingWindowSeconds ?? 20)),
      reportBatchItemFailures: true,
      maxConcurrency: 2,
    }),
  );

  const path: EventsPath = { queue, auditFunction, alarms: [] };
  const queueEnv = { EVENT_QUEUE_URL: queue.queueUrl };

  if (props.pollMinutes) {
    const poll = deps.lambda('EventPoll', HANDLER_ENTRIES.eventPoll, {
      description: 'csdrift: reads cloud.event since its cursor onto the events queue',
      memorySize: 512,
      timeout: Duration.minutes(1),
      reservedConcurrentExecutions: 1, // one poller, one cursor
      environment: { ...deps.auditEnvironment, ...queueEnv },
    });
    deps.grantAudit(poll);
    queue.grantSendMessages(poll);
    acknowledgeAll(poll, deps.reportGrantReasons);
    new Schedule(scope, 'EventPollSchedule', {
      description: 'csdrift: read CloudStack events',
      schedule: ScheduleExpression.rate(Duration.minutes(props.pollMinutes)),
      target: new LambdaInvoke(poll, {
        input: ScheduleTargetInput.fromObject({ source: 'aws.scheduler', 'detail-type': 'Scheduled Event' }),
        retryAttempts: 0, // the next minute's poll reads the same rows again
      }),
    });
    acknowledgeAll(Stack.of(scope), {
      [`AwsSolutions-IAM5[Resource::<${logicalId(poll)}.Arn>:*]`]:
        'The poll schedule may invoke the poller and its versions, nothing else.',
    });
    path.pollFunction = poll;
  }

  if (props.webhookSecret) {
    const webhook = deps.lambda(
      'EventWebhook',
      HANDLER_ENTRIES.eventWebhook,
      {
        description: 'csdrift: CloudStack webhooks, X-CS-Signature checked, onto the events queue',
        memorySize: 256,
        timeout: Duration.seconds(10), // CloudStack waits webhook.delivery.timeout (10 s)
        environment: { ...queueEnv, WEBHOOK_SECRET_ID: props.webhookSecret.secretArn },
      },
      true,
    );
    props.webhookSecret.grantRead(webhook);
    queue.grantSendMessages(webhook);
    path.webhookUrl = webhook.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    acknowledgeAll(webhook, {
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]':
        'CDK grant on the auditor’s own key only, to send to the encrypted queue.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
        'CDK grant on the auditor’s own key only, to send to the encrypted queue.',
    });
    path.webhookFunction = webhook;
  }

  const dead = new Alarm(scope, 'EventDeadLetterAlarm', {
    alarmDescription: 'Change events that could not be audited after 5 tries are in the dead-letter queue.',
    metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  dead.addAlarmAction(new SnsAction(deps.topic));
  path.alarms.push(dead);
  return path;
}
