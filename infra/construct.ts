// CloudStackDriftAuditor: the nightly audit deployed next to a private CloudStack. Only CDK here;
// the functions it bundles live in functions/.
import { fileURLToPath } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SnsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  DefinitionBody,
  DistributedMap,
  LogLevel,
  Map as SfnMap,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { TimeZone } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface CloudStackDriftAuditorProps {
  /** The VPC from which the CloudStack DB and the stores are reachable, by id (no lookup, no credentials at synth). */
  network: { vpcId: string; availabilityZones: string[]; subnetIds: string[]; securityGroupIds: string[] };
  /** The DB secret ({host, port, username, password, dbname}), by name or ARN. */
  dbSecret: string;
  /** Optional per-store secrets ({accessKey, secretKey, endpoint?}) by store uuid or name. */
  storeSecrets?: Record<string, string>;
  /** Created (KMS, private, TLS only, versioned, old runs expired) unless an existing bucket is named. */
  reportBucket?: { existingBucketName?: string; prefix?: string; expireRunsAfterDays?: number };
  /** Default: every night at 02:00 UTC. */
  schedule?: { expression?: string; timeZone?: string };
  /** Email addresses subscribed to the tasks topic. */
  emails?: string[];
  /** A secret holding the Slack incoming webhook URL: subscribes the Slack notifier. */
  slackWebhookSecret?: string;
  fifo?: boolean;
  /** The audit's config (the CLI's config file, as an object). */
  config?: Record<string, unknown>;
  formats?: string;
  memorySize?: number;
  timeout?: Duration;
  logRetention?: RetentionDays;
  /**
   * Audit each store in its own invocation through Step Functions, for clouds whose audit would not
   * fit one 15-minute invocation. `distributed` uses a distributed map (thousands of stores).
   * The report is the same either way.
   */
  fanOut?: { maxConcurrency?: number; distributed?: boolean };
  /**
   * The remediate function, for manual invokes: the CloudStack API URL and the secret that holds a
   * root admin's {apiKey, secretKey}. Which rules may be fixed is still the config's rules.<rule>.remediate.
   */
  remediation?: { apiUrl: string; apiSecret: string };
}

const HANDLERS = fileURLToPath(new URL('../functions/handlers/', import.meta.url));
const NAMESPACE = 'CloudStackDriftAuditor';

export class CloudStackDriftAuditor extends Construct {
  readonly auditFunction: NodejsFunction;
  readonly reportBucket: IBucket;
  readonly topic: Topic;
  readonly schedule: Schedule;
  readonly stateMachine?: StateMachine;
  readonly remediateFunction?: NodejsFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: CloudStackDriftAuditorProps) {
    super(scope, id);
    const key = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'csdrift reports, tasks and dead letters',
    });
    const vpc = Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.network.vpcId,
      availabilityZones: props.network.availabilityZones,
      privateSubnetIds: props.network.subnetIds,
    });
    const securityGroups = props.network.securityGroupIds.map((sg, i) =>
      SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, sg),
    );
    const prefix = props.reportBucket?.prefix ?? 'audits';

    this.reportBucket = props.reportBucket?.existingBucketName
      ? Bucket.fromBucketName(this, 'Reports', props.reportBucket.existingBucketName)
      : this.createReportBucket(key, prefix, props.reportBucket?.expireRunsAfterDays ?? 90);

    this.topic = new Topic(this, 'Tasks', {
      masterKey: key,
      enforceSSL: true,
      ...(props.fifo ? { fifo: true, topicName: `${id}-tasks.fifo` } : {}),
    });
    for (const email of props.emails ?? []) this.topic.addSubscription(new EmailSubscription(email));

    const deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dbSecret = this.secret('DbSecret', props.dbSecret);
    const storeSecrets = Object.entries(props.storeSecrets ?? {}).map(
      ([store, name], i) => [store, this.secret(`StoreSecret${i}`, name)] as const,
    );

    const auditEnvironment = {
      DB_SECRET_ID: dbSecret.secretArn,
      STORE_SECRETS: JSON.stringify(
        Object.fromEntries(storeSecrets.map(([store, s]) => [store, s.secretArn])),
      ),
      REPORT_URI: `s3://${this.reportBucket.bucketName}/${prefix}`,
      REPORT_FORMATS: props.formats ?? 'json,html',
      TOPIC_ARN: this.topic.topicArn,
      CSDRIFT_CONFIG: JSON.stringify(props.config ?? {}),
      WRAP_UP_MS: '60000',
    };
    this.auditFunction = this.lambda('Audit', 'audit.ts', vpc, securityGroups, props, {
      description: 'csdrift: audits CloudStack object storage against its stores',
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(15),
      reservedConcurrentExecutions: 1, // one audit at a time: the ledger has one writer
      deadLetterQueue: deadLetters,
      environment: auditEnvironment,
    });
    acknowledgeAll(this.auditFunction, this.reportGrantReasons(prefix));
    const grantAudit = (fn: NodejsFunction) => {
      dbSecret.grantRead(fn);
      for (const [, secret] of storeSecrets) secret.grantRead(fn);
      this.reportBucket.grantReadWrite(fn, `${prefix}/*`);
      this.topic.grantPublish(fn);
    };
    grantAudit(this.auditFunction);

    if (props.slackWebhookSecret) {
      const webhook = this.secret('SlackWebhook', props.slackWebhookSecret);
      const slack = this.lambda('SlackNotifier', 'slack-notifier.ts', vpc, securityGroups, props, {
        description: 'csdrift: posts remediation tasks and digests to Slack',
        memorySize: 256,
        timeout: Duration.minutes(2),
        environment: { SLACK_WEBHOOK_SECRET_ID: webhook.secretArn },
      });
      webhook.grantRead(slack);
      slack.addEventSource(new SnsEventSource(this.topic));
    }

    if (props.fanOut) {
      const fanOutFunction = this.lambda('FanOut', 'fanout.ts', vpc, securityGroups, props, {
        description: 'csdrift: one step of the Step Functions fan-out (list, scan one store, merge)',
        memorySize: props.memorySize ?? 1024,
        timeout: props.timeout ?? Duration.minutes(15),
        environment: auditEnvironment,
      });
      grantAudit(fanOutFunction);
      acknowledgeAll(fanOutFunction, this.reportGrantReasons(prefix));
      this.stateMachine = this.fanOutStateMachine(fanOutFunction, props);
    }

    if (props.remediation) {
      const apiSecret = this.secret('CloudStackApiSecret', props.remediation.apiSecret);
      const cloudstack = { apiUrl: props.remediation.apiUrl, secretId: apiSecret.secretArn };
      this.remediateFunction = this.lambda('Remediate', 'remediate.ts', vpc, securityGroups, props, {
        description: 'csdrift: guarded remediation of one finding (manual invoke only)',
        memorySize: 512,
        timeout: Duration.minutes(10),
        reservedConcurrentExecutions: 1,
        environment: { ...auditEnvironment, CSDRIFT_CONFIG: JSON.stringify({ ...props.config, cloudstack }) },
      });
      grantAudit(this.remediateFunction);
      apiSecret.grantRead(this.remediateFunction);
      acknowledgeAll(this.remediateFunction, this.reportGrantReasons(prefix));
    }

    const scheduleInput = ScheduleTargetInput.fromObject({
      source: 'aws.scheduler',
      'detail-type': 'Scheduled Event',
      time: '<aws.scheduler.scheduled-time>',
    });
    this.schedule = new Schedule(this, 'Nightly', {
      description: 'csdrift nightly audit',
      schedule: ScheduleExpression.expression(
        props.schedule?.expression ?? 'cron(0 2 * * ? *)',
        TimeZone.of(props.schedule?.timeZone ?? 'UTC'),
      ),
      // retryAttempts 0: a failed night is an alarm, not a retry storm on the stores
      target: this.stateMachine
        ? new StepFunctionsStartExecution(this.stateMachine, { input: scheduleInput, retryAttempts: 0 })
        : new LambdaInvoke(this.auditFunction, { input: scheduleInput, retryAttempts: 0 }),
    });
    acknowledgeAll(Stack.of(this), {
      [`AwsSolutions-IAM5[Resource::<${logicalId(this.auditFunction)}.Arn>:*]`]:
        'The schedule may invoke the audit function and its versions, nothing else.',
    });
    Validations.of(this).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'The subnets are taken by id; the functions need no route table ids.',
    });
    this.createAlarms(deadLetters);
    if (this.stateMachine) {
      const failed = new Alarm(this, 'FanOutFailed', {
        alarmDescription: 'A fan-out audit execution failed, timed out or was aborted.',
        metric: this.stateMachine.metricFailed({ period: Duration.hours(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      failed.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(failed);
    }
  }

  /** The wildcards CDK's grants on the report prefix and the key put in a function's policy. */
  private reportGrantReasons(prefix: string): Record<string, string> {
    return {
      'AwsSolutions-IAM5[Action::s3:GetObject*]':
        'CDK grant on the report prefix only: reports and the ledger are read back.',
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': 'CDK grant on the report bucket only.',
      'AwsSolutions-IAM5[Action::s3:List*]': 'CDK grant on the report bucket only.',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]':
        'CDK grant on the report prefix only; the function never deletes, but grantReadWrite includes it.',
      'AwsSolutions-IAM5[Action::s3:Abort*]':
        'CDK grant on the report prefix only: aborts its own multipart uploads.',
      [`AwsSolutions-IAM5[Resource::${this.reportBucket instanceof Bucket ? `<${logicalId(this.reportBucket)}.Arn>` : `arn:<AWS::Partition>:s3:::${this.reportBucket.bucketName}`}/${prefix}/*]`]:
        'Objects under the report prefix only.',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': 'CDK grant on the auditor’s own key only.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 'CDK grant on the auditor’s own key only.',
    };
  }

  /** List the stores, scan each in its own invocation (bounded), merge into one report. */
  private fanOutStateMachine(fn: NodejsFunction, props: CloudStackDriftAuditorProps): StateMachine {
    const step = (id: string, payload: Record<string, unknown>) =>
      new sfnTasks.LambdaInvoke(this, id, {
        lambdaFunction: fn,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const run = { 'runId.$': '$.runId', 'startedAt.$': '$.startedAt', 'input.$': '$.input' };
    const list = step('ListStores', { step: 'list', 'input.$': '$' });
    const scan = step('ScanStore', { step: 'scan', ...run, 'store.$': '$.store' });
    const mapProps = {
      itemsPath: '$.stores',
      maxConcurrency: props.fanOut?.maxConcurrency ?? 10,
      itemSelector: {
        'runId.$': '$.runId',
        'startedAt.$': '$.startedAt',
        'input.$': '$.input',
        'store.$': '$$.Map.Item.Value',
      },
      resultPath: '$.scans',
    };
    const map = props.fanOut?.distributed
      ? new DistributedMap(this, 'ScanEachStore', mapProps)
      : new SfnMap(this, 'ScanEachStore', mapProps);
    map.itemProcessor(scan);
    const merge = step('Merge', { step: 'merge', ...run, 'scans.$': '$.scans' });
    const logs = new LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const machine = new StateMachine(this, 'AuditStateMachine', {
      definitionBody: DefinitionBody.fromChainable(list.next(map).next(merge)),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    acknowledgeAll(machine, {
      [`AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`]:
        'The state machine may invoke the fan-out function and its versions, nothing else.',
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray tracing and CloudWatch Logs delivery actions have no resource-level permissions.',
    });
    if (props.fanOut?.distributed) {
      // A distributed map starts child executions of its own state machine and must read them.
      const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(machine)}"}]}]}`;
      acknowledgeAll(machine, {
        [`AwsSolutions-IAM5[Resource::${executions}:*]`]:
          'Its own executions only: the distributed map manages its child runs.',
        [`AwsSolutions-IAM5[Resource::${executions}/*:*]`]: 'Its own child executions only.',
      });
    }
    return machine;
  }

  private createReportBucket(key: Key, prefix: string, expireDays: number): Bucket {
    const bucket = new Bucket(this, 'Reports', {
      encryption: BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-old-runs', prefix: `${prefix}/runs/`, expiration: Duration.days(expireDays) },
        // the fan-out's per-store scans are only needed until the merge
        { id: 'expire-fan-out-scans', prefix: `${prefix}/scans/`, expiration: Duration.days(7) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Reports are written by one function; object-level access is audited through CloudTrail data events, which operators enable account-wide.',
    });
    return bucket;
  }

  private secret(id: string, nameOrArn: string): ISecret {
    return nameOrArn.startsWith('arn:')
      ? Secret.fromSecretCompleteArn(this, id, nameOrArn)
      : Secret.fromSecretNameV2(this, id, nameOrArn);
  }

  private lambda(
    id: string,
    entry: string,
    vpc: IVpc,
    securityGroups: ISecurityGroup[],
    props: CloudStackDriftAuditorProps,
    more: Partial<NodejsFunctionProps>,
  ): NodejsFunction {
    const fn = new NodejsFunction(this, id, {
      entry: `${HANDLERS}${entry}`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      vpc,
      vpcSubnets: { subnets: vpc.privateSubnets },
      securityGroups,
      logGroup: new LogGroup(this, `${id}Logs`, {
        retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: 'node22',
        // mysql2 requires Node built-ins dynamically: an ES-module bundle needs require defined.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      ...more,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'csdrift',
        POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
        ...more.environment,
      },
    });
    acknowledgeAll(fn, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'The minimal managed policy for writing the function’s logs.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
        'The minimal managed policy for the function’s network interfaces in the VPC.',
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray PutTraceSegments/PutTelemetryRecords and the VPC network-interface actions have no resource-level permissions.',
      'AwsSolutions-L1':
        'Pinned to Node.js 22, the major the tests run on (node@22 devDependency); move both together.',
    });
    return fn;
  }

  private createAlarms(deadLetters: Queue): void {
    const alarm = (
      id: string,
      description: string,
      metric: Metric,
      threshold: number,
      more: { comparison?: ComparisonOperator; evaluationPeriods?: number; missing?: TreatMissingData } = {},
    ) => {
      const a = new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: more.evaluationPeriods ?? 1,
        datapointsToAlarm: more.evaluationPeriods ?? 1,
        comparisonOperator: more.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: more.missing ?? TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(a);
    };
    const fn = this.auditFunction;
    const custom = (name: string, statistic: string, period: Duration) =>
      new Metric({
        namespace: NAMESPACE,
        metricName: name,
        dimensionsMap: { service: 'csdrift' },
        statistic,
        period,
      });
    alarm('AuditErrors', 'The audit function failed.', fn.metricErrors({ period: Duration.hours(1) }), 1);
    alarm(
      'AuditThrottles',
      'The audit function was throttled (another audit still running?).',
      fn.metricThrottles({ period: Duration.hours(1) }),
      1,
    );
    alarm(
      'NoSuccessfulRun',
      'No audit has completed in 26 hours.',
      custom('RunsCompleted', 'Sum', Duration.hours(1)),
      1,
      {
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 26,
        missing: TreatMissingData.BREACHING,
      },
    );
    alarm(
      'StoreUnverified',
      'A store could not be verified by the last audit.',
      custom('StoresUnverified', 'Maximum', Duration.hours(1)),
      1,
    );
    alarm(
      'DeadLetterAlarm',
      'An asynchronous invocation of the audit failed for good.',
      deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      1,
    );
  }
}

/** cdk-nag 3 acknowledgements: every one carries its reason. */
function acknowledgeAll(scope: Construct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason }); // cdk-nag matches the bare rule id
}

/** The CloudFormation logical id of a construct's resource, as cdk-nag names it in finding ids. */
function logicalId(construct: Construct): string {
  const stack = Stack.of(construct);
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
}
