// The Step Functions fan-out: list the stores and write the shard manifest, scan each shard of each
// store in its own invocation (a Distributed Map over the manifest, with a concurrency limit and its
// results written to the report bucket), merge into one report.
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import {
  DefinitionBody,
  DistributedMap,
  JsonPath,
  LogLevel,
  ResultWriter,
  S3JsonItemReader,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { acknowledgeAll, logicalId } from './nag.js';

export interface FanOutOptions {
  /** Shards scanned at once (the Distributed Map's MaxConcurrency), default 10. */
  maxConcurrency?: number;
  /**
   * Each store's shards, each its own invocation: a number, or `auto` (one per 100,000 of the
   * store's rows); the list step writes them to the shard manifest. Given to the function as
   * CSDRIFT_FANOUT_SHARDS.
   */
  shards?: number | 'auto';
  /** @deprecated The Map is always distributed now: it reads the shard manifest from the report bucket. */
  distributed?: boolean;
  logRetention?: RetentionDays;
}

/** Where the shard manifest is read and the shards' results written: the report bucket, under its prefix. */
export interface FanOutPlace {
  bucket: IBucket;
  prefix: string;
}

export function fanOutStateMachine(
  scope: Construct,
  fn: NodejsFunction,
  options: FanOutOptions,
  place: FanOutPlace,
): StateMachine {
  const step = (id: string, payload: Record<string, unknown>) =>
    new sfnTasks.LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
  const run = { 'runId.$': '$.runId', 'startedAt.$': '$.startedAt', 'input.$': '$.input' };
  const shard = {
    'store.$': '$.store',
    'shard.$': '$.shard',
    'shards.$': '$.shards',
    'partitions.$': '$.partitions',
  };
  const list = step('ListShards', { step: 'list', 'input.$': '$' });
  const scan = step('ScanShard', { step: 'scan', ...run, ...shard });
  // The items are the shard manifest the list step wrote (never the state's payload, whatever the
  // number of shards); each shard's output, a key to its judgement, goes to the result writer's files.
  const map = new DistributedMap(scope, 'ScanEachShard', {
    itemReader: new S3JsonItemReader({ bucket: place.bucket, key: JsonPath.stringAt('$.manifest.key') }),
    itemSelector: {
      ...run,
      'store.$': '$$.Map.Item.Value.store',
      'shard.$': '$$.Map.Item.Value.shard',
      'shards.$': '$$.Map.Item.Value.shards',
      'partitions.$': '$$.Map.Item.Value.partitions',
    },
    maxConcurrency: options.maxConcurrency ?? 10,
    resultWriter: new ResultWriter({ bucket: place.bucket, prefix: `${place.prefix}/fanout-results` }),
    resultPath: '$.results',
  });
  map.itemProcessor(scan);
  const merge = step('Merge', {
    step: 'merge',
    ...run,
    'manifest.$': '$.manifest',
    'results.$': '$.results.ResultWriterDetails',
  });
  const logs = new LogGroup(scope, 'StateMachineLogs', {
    retention: options.logRetention ?? RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const machine = new StateMachine(scope, 'AuditStateMachine', {
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
  // A distributed map starts child executions of its own state machine and must read them.
  const stack = Stack.of(machine);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const executions = `arn:<AWS::Partition>:states:${region}:${account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(machine)}"}]}]}`;
  const created = place.bucket instanceof Bucket;
  const bucketArn = created
    ? `<${logicalId(place.bucket)}.Arn>`
    : `arn:<AWS::Partition>:s3:::${place.bucket.bucketName}`;
  const bucketName = created ? `<${logicalId(place.bucket)}>` : place.bucket.bucketName;
  // The report bucket's key: the manifest is read and the results written encrypted.
  place.bucket.encryptionKey?.grantEncryptDecrypt(machine);
  acknowledgeAll(machine, {
    [`AwsSolutions-IAM5[Resource::${executions}:*]`]:
      'Its own executions only: the distributed map manages its child runs.',
    [`AwsSolutions-IAM5[Resource::${executions}/*:*]`]: 'Its own child executions only.',
    [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketName}/*]`]:
      'The item reader reads the shard manifest, whose key each run names, from the report bucket.',
    [`AwsSolutions-IAM5[Resource::${bucketArn}/${place.prefix}/fanout-results*]`]:
      "The result writer writes each map run's results under its own prefix of the report bucket.",
    'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]':
      "The report bucket's key, to write the results encrypted.",
    'AwsSolutions-IAM5[Action::kms:ReEncrypt*]':
      "The report bucket's key, as CDK grants it for encrypt and decrypt.",
  });
  return machine;
}
