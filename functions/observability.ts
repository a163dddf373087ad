// The one logger and the one metrics instance every Lambda function shares (Powertools).
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Report } from './core/report.js';
import type { RunOutcome } from './run.js';

export const logger = new Logger({ serviceName: 'csdrift' });
export const metrics = new Metrics({ namespace: 'CloudStackDriftAuditor', serviceName: 'csdrift' });

/** Findings by rule and severity, stores unverified, buckets scanned, store requests, duration. */
export function recordRunMetrics(report: Report): void {
  const unverified = report.coverage.filter((c) =>
    ['partial', 'unreachable', 'auth_failed'].includes(c.status),
  ).length;
  metrics.addMetric('RunsCompleted', MetricUnit.Count, 1);
  metrics.addMetric('StoresUnverified', MetricUnit.Count, unverified);
  metrics.addMetric('FindingsNew', MetricUnit.Count, report.summary.new);
  metrics.addMetric('FindingsOpen', MetricUnit.Count, report.summary.open);
  metrics.addMetric('FindingsResolved', MetricUnit.Count, report.summary.resolved);
  metrics.addMetric(
    'BucketsScanned',
    MetricUnit.Count,
    report.coverage.reduce((n, c) => n + c.bucketsInStore, 0),
  );
  metrics.addMetric(
    'StoreRequests',
    MetricUnit.Count,
    report.coverage.reduce((n, c) => n + c.evidence.requests, 0),
  );
  metrics.addMetric(
    'DurationSeconds',
    MetricUnit.Seconds,
    (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000,
  );
  const byRuleAndSeverity = new Map<string, number>();
  for (const f of report.findings)
    byRuleAndSeverity.set(
      `${f.rule}|${f.severity}`,
      (byRuleAndSeverity.get(`${f.rule}|${f.severity}`) ?? 0) + 1,
    );
  for (const [key, n] of byRuleAndSeverity) {
    const [rule = '', severity = ''] = key.split('|');
    const single = metrics.singleMetric();
    single.addDimensions({ rule, severity });
    single.addMetric('Findings', MetricUnit.Count, n);
  }
}

/** What an audit invocation returns: { runId, status, summary, reportUri } (docs/contract.md, "Lambda"). */
export interface AuditResult {
  runId: string;
  status: Report['status'];
  summary: Report['summary'];
  reportUri: string;
}

/** The end of every audit invocation: its metrics, its log lines, and the result docs/contract.md promises. */
export function auditResult(outcome: RunOutcome): AuditResult {
  const { report } = outcome;
  recordRunMetrics(report);
  if (outcome.conflict)
    logger.warn('another run updated the ledger first', { error: outcome.conflict.message });
  for (const failure of outcome.notified?.failures ?? []) logger.warn('notification not sent', { failure });
  const result = {
    runId: report.runId,
    status: report.status,
    summary: report.summary,
    reportUri: outcome.reportUri,
  };
  logger.info('audit finished', { ...result });
  return result;
}
