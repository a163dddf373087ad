// The Step Functions fan-out: list the stores, scan each in its own invocation (a Map with a
// concurrency limit, or a distributed map), merge into one report.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  DistributedMap,
  LogLevel,
  Map as SfnMap,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { acknowledgeAll, logicalId } from './nag.js';

export interface FanOutOptions {
  maxConcurrency?: number;
  distributed?: boolean;
  logRetention?: RetentionDays;
}

export function fanOutStateMachine(
  scope: Construct,
  fn: NodejsFunction,
  options: FanOutOptions,
): StateMachine {
  const step = (id: string, payload: Record<string, unknown>) =>
    new sfnTasks.LambdaInvoke(scope, id, {
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
    maxConcurrency: options.maxConcurrency ?? 10,
    itemSelector: {
      'runId.$': '$.runId',
      'startedAt.$': '$.startedAt',
      'input.$': '$.input',
      'store.$': '$$.Map.Item.Value',
    },
    resultPath: '$.scans',
  };
  const map = options.distributed
    ? new DistributedMap(scope, 'ScanEachStore', mapProps)
    : new SfnMap(scope, 'ScanEachStore', mapProps);
  map.itemProcessor(scan);
  const merge = step('Merge', { step: 'merge', ...run, 'scans.$': '$.scans' });
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
  if (options.distributed) {
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
