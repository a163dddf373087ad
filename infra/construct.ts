// CloudStackDriftAuditor: the nightly audit deployed next to a private CloudStack. Only CDK here;
// the functions it bundles live in functions/.
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SecurityGroup, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Architecture, FunctionUrlAuthType, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { SnsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, auditAlarms } from './alarms.js';
import { BUNDLE_BANNER, BUNDLE_EXTERNALS, BUNDLE_TARGET, HANDLER_ENTRIES } from './bundling.js';
import type { FanOutOptions } from './fan-out.js';
import { fanOutStateMachine } from './fan-out.js';
import { acknowledgeAll, logicalId } from './nag.js';
import type { EventsPath } from './events-path.js';
import { eventsPath } from './events-path.js';

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
   * Audit each shard of each store in its own invocation through Step Functions, for clouds whose
   * audit would not fit one 15-minute invocation: the list step writes a shard manifest to the report
   * bucket, a Distributed Map reads it (`maxConcurrency` shards at once, `shards` per store) and
   * writes the shards' results there, and the merge reads them back one at a time. The report is the
   * same either way.
   */
  fanOut?: FanOutOptions;
  /**
   * The remediate function, for manual invokes: the CloudStack API URL and the secret that holds a
   * root admin's {apiKey, secretKey}. Which rules may be fixed is still the config's rules.<rule>.remediate.
   */
  remediation?: { apiUrl: string; apiSecret: string };
  /**
   * The Slack buttons (needs `remediation`): a secret holding the Slack app's signing secret (a plain
   * string). Adds a function URL for Slack's interactivity (stack output SlackActionsUrl) whose clicks
   * the remediate function carries out; tasks posted to Slack carry Fix, Suppress 30 days and Not
   * drift. Who may press them is the config's remediation.approvers.
   */
  slackActions?: { signingSecret: string };
  /**
   * Continuous mode without a broker (opt-in): poll cloud.event every `pollMinutes`, and/or a
   * webhook endpoint for CloudStack 4.20+ whose secret (a plain string) is in `webhookSecret`.
   */
  events?: { pollMinutes?: number; webhookSecret?: string; batchingWindowSeconds?: number };
}

const HANDLERS = fileURLToPath(new URL('../functions/handlers/', import.meta.url));

export class CloudStackDriftAuditor extends Construct {
  readonly auditFunction: NodejsFunction;
  readonly reportBucket: IBucket;
  readonly topic: Topic;
  readonly schedule: Schedule;
  readonly stateMachine?: StateMachine;
  readonly remediateFunction?: NodejsFunction;
  readonly slackActionsFunction?: NodejsFunction;
  readonly slackActionsUrl?: FunctionUrl;
  readonly alarms: Alarm[];
  readonly events?: EventsPath;

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
    // A store's secret may also be named in the config (stores.<store>.secretId): read and granted alike.
    const inConfig = Object.entries(
      (props.config?.stores ?? {}) as Record<string, { secretId?: unknown }>,
    ).flatMap(([store, o]) =>
      typeof o?.secretId === 'string' && o.secretId ? [[store, o.secretId] as const] : [],
    );
    const storeSecrets = Object.entries({ ...Object.fromEntries(inConfig), ...props.storeSecrets }).map(
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
    this.auditFunction = this.lambda('Audit', HANDLER_ENTRIES.audit, vpc, securityGroups, props, {
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
      const slack = this.lambda('SlackNotifier', HANDLER_ENTRIES.slackNotifier, vpc, securityGroups, props, {
        description: 'csdrift: posts remediation tasks and digests to Slack',
        memorySize: 256,
        timeout: Duration.minutes(2),
        environment: {
          SLACK_WEBHOOK_SECRET_ID: webhook.secretArn,
          ...(props.slackActions ? { SLACK_INTERACTIVE: 'true' } : {}),
        },
      });
      webhook.grantRead(slack);
      slack.addEventSource(new SnsEventSource(this.topic));
    }

    if (props.fanOut) {
      const fanOutFunction = this.lambda('FanOut', HANDLER_ENTRIES.fanout, vpc, securityGroups, props, {
        description: 'csdrift: one step of the Step Functions fan-out (list, scan one store, merge)',
        memorySize: props.memorySize ?? 1024,
        timeout: props.timeout ?? Duration.minutes(15),
        environment: { ...auditEnvironment, CSDRIFT_FANOUT_SHARDS: String(props.fanOut.shards ?? 'auto') },
      });
      grantAudit(fanOutFunction);
      acknowledgeAll(fanOutFunction, this.reportGrantReasons(prefix));
      this.stateMachine = fanOutStateMachine(
        this,
        fanOutFunction,
        { ...props.fanOut, ...(props.logRetention ? { logRetention: props.logRetention } : {}) },
        { bucket: this.reportBucket, prefix },
      );
    }

    let withApi: { config: string; grant: (fn: NodejsFunction) => void } | undefined;
    if (props.remediation) {
      const apiSecret = this.secret('CloudStackApiSecret', props.remediation.apiSecret);
      const cloudstack = { apiUrl: props.remediation.apiUrl, secretId: apiSecret.secretArn };
      this.remediateFunction = this.lambda(
        'Remediate',
        HANDLER_ENTRIES.remediate,
        vpc,
        securityGroups,
        props,
        {
          description: 'csdrift: guarded remediation of one finding (manual invoke only)',
          memorySize: 512,
          timeout: Duration.minutes(10),
          reservedConcurrentExecutions: 1,
          environment: {
            ...auditEnvironment,
            CSDRIFT_CONFIG: JSON.stringify({ ...props.config, cloudstack }),
          },
        },
      );
      grantAudit(this.remediateFunction);
      apiSecret.grantRead(this.remediateFunction);
      acknowledgeAll(this.remediateFunction, this.reportGrantReasons(prefix));
      withApi = {
        config: JSON.stringify({ ...props.config, cloudstack }),
        grant: (fn) => apiSecret.grantRead(fn),
      };
    }
    if (props.slackActions) {
      if (!this.remediateFunction)
        throw new Error(
          'slackActions needs remediation (the CloudStack API): the remediate function carries the clicks out',
        );
      const signing = this.secret('SlackSigningSecret', props.slackActions.signingSecret);
      const fn = this.lambda(
        'SlackActions',
        HANDLER_ENTRIES.slackActions,
        vpc,
        securityGroups,
        props,
        {
          description: 'csdrift: Slack button clicks, signature checked, handed to the remediate function',
          memorySize: 256,
          // Slack waits 3 seconds; past them it shows an error, but a click verified and handed on is still done.
          timeout: Duration.seconds(10),
          environment: {
            REPORT_URI: auditEnvironment.REPORT_URI,
            SLACK_SIGNING_SECRET_ID: signing.secretArn,
            CLICK_WORKER_FUNCTION: this.remediateFunction.functionName,
          },
        },
        true,
      );
      signing.grantRead(fn);
      // Only the claims of clicks it has seen (a replay is refused): no report, no ledger.
      this.reportBucket.grantReadWrite(fn, `${prefix}/slack-clicks/*`);
      this.remediateFunction.grantInvoke(fn);
      this.slackActionsUrl = fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
      acknowledgeAll(fn, {
        ...this.reportGrantReasons(prefix),
        [`AwsSolutions-IAM5[Resource::${this.reportBucket instanceof Bucket ? `<${logicalId(this.reportBucket)}.Arn>` : `arn:<AWS::Partition>:s3:::${this.reportBucket.bucketName}`}/${prefix}/slack-clicks/*]`]:
          'Objects under the report prefix’s slack-clicks/ only: one claim per verified click.',
        [`AwsSolutions-IAM5[Resource::<${logicalId(this.remediateFunction)}.Arn>:*]`]:
          'It may invoke the remediate function and its versions, nothing else.',
      });
      this.slackActionsFunction = fn;
    }

    if (props.events && (props.events.pollMinutes || props.events.webhookSecret)) {
      const { webhookSecret, ...events } = props.events;
      // Self-healing of failed deletes runs in the event audits: they need the CloudStack API too.
      const heals =
        withApi &&
        (props.config?.remediation as { auto?: { failedDeletes?: unknown } } | undefined)?.auto
          ?.failedDeletes === true
          ? withApi
          : undefined;
      this.events = eventsPath(
        this,
        {
          ...events,
          ...(webhookSecret ? { webhookSecret: this.secret('WebhookSecret', webhookSecret) } : {}),
        },
        {
          key,
          topic: this.topic,
          lambda: (fnId, entry, more, outsideVpc) =>
            this.lambda(fnId, entry, vpc, securityGroups, props, more, outsideVpc),
          grantAudit: (fn) => {
            grantAudit(fn);
            heals?.grant(fn);
          },
          auditEnvironment: heals ? { ...auditEnvironment, CSDRIFT_CONFIG: heals.config } : auditEnvironment,
          reportGrantReasons: this.reportGrantReasons(prefix),
        },
      );
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
    this.alarms = auditAlarms(this, {
      auditFunction: this.auditFunction,
      deadLetters,
      topic: this.topic,
      ...(this.stateMachine ? { stateMachine: this.stateMachine } : {}),
    });
    this.alarms.push(...(this.events?.alarms ?? []));
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
        // a Slack click's claim only has to outlive Slack's 5-minute window
        { id: 'expire-slack-click-claims', prefix: `${prefix}/slack-clicks/`, expiration: Duration.days(1) },
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
    acknowledgeAll(bucket, {
      'AwsSolutions-S1':
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
    /** A function that reaches only AWS services (the webhook endpoint) needs no place in the VPC. */
    outsideVpc = false,
  ): NodejsFunction {
    const fn = new NodejsFunction(this, id, {
      entry: `${HANDLERS}${entry}`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      ...(outsideVpc ? {} : { vpc, vpcSubnets: { subnets: vpc.privateSubnets }, securityGroups }),
      logGroup: new LogGroup(this, `${id}Logs`, {
        retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: BUNDLE_TARGET,
        banner: BUNDLE_BANNER,
        externalModules: BUNDLE_EXTERNALS,
      },
      ...more,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'csdrift',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
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
}
