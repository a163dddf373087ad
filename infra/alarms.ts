// What wakes someone: the audit failing or throttled, no completed run for 26 hours, a store the
// last audit could not verify, a dead letter, a failed fan-out execution. Every alarm notifies the topic.
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export const METRICS_NAMESPACE = 'CloudStackDriftAuditor';

export interface AlarmTargets {
  auditFunction: IFunction;
  deadLetters: IQueue;
  topic: ITopic;
  stateMachine?: StateMachine;
}

export function auditAlarms(
  scope: Construct,
  { auditFunction, deadLetters, topic, stateMachine }: AlarmTargets,
): Alarm[] {
  const alarms: Alarm[] = [];
  const alarm = (
    id: string,
    description: string,
    metric: Metric,
    threshold: number,
    more: { comparison?: ComparisonOperator; evaluationPeriods?: number; missing?: TreatMissingData } = {},
  ) => {
    const a = new Alarm(scope, id, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: more.evaluationPeriods ?? 1,
      datapointsToAlarm: more.evaluationPeriods ?? 1,
      comparisonOperator: more.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: more.missing ?? TreatMissingData.NOT_BREACHING,
    });
    a.addAlarmAction(new SnsAction(topic));
    alarms.push(a);
  };
  const fn = auditFunction;
  const custom = (name: string, statistic: string, period: Duration) =>
    new Metric({
      namespace: METRICS_NAMESPACE,
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
  if (stateMachine) {
    alarm(
      'FanOutFailed',
      'A fan-out audit execution failed, timed out or was aborted.',
      stateMachine.metricFailed({ period: Duration.hours(1) }),
      1,
    );
  }
  return alarms;
}
