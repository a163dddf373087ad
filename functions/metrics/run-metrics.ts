// The figures of one run in the Prometheus text format (docs/contract.md, "Metrics"),
// for node_exporter's textfile collector: what an on-prem operator alerts on.
import { Gauge, Registry } from 'prom-client';
import type { Report, RunStatus } from '../core/report.js';
import { billingOf, unverifiedChecks } from '../core/report.js';
import type { StoreCoverage } from '../core/model.js';

export const RUN_STATUSES: readonly RunStatus[] = ['in_sync', 'drift', 'incomplete', 'error'];

export interface RunFigures {
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date;
  /** The report, when the run got that far (an error before the audit has none). */
  report: Report | null;
  /** When a run last succeeded (in_sync or drift): this one, or the one before it. */
  lastSuccessAt: number | null;
  /** Messages the run could not send, by channel (only the channels it tried). */
  notificationsFailed?: Record<string, number>;
}

/** A run that audited everything it was asked to, whatever it found. */
export function isSuccess(status: RunStatus): boolean {
  return status === 'in_sync' || status === 'drift';
}

export async function renderRunMetrics(figures: RunFigures): Promise<string> {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });

  gauge('csdrift_last_run_timestamp_seconds', 'When the last audit finished, in Unix seconds.').set(
    figures.finishedAt.getTime() / 1000,
  );
  if (figures.lastSuccessAt !== null)
    gauge(
      'csdrift_last_success_timestamp_seconds',
      'When the last audit that verified what it was asked to (in_sync or drift) finished.',
    ).set(figures.lastSuccessAt);
  const status = gauge('csdrift_last_run_status', "The last audit's status: 1 for it, 0 for the others.", [
    'status',
  ]);
  for (const s of RUN_STATUSES) status.set({ status: s }, s === figures.status ? 1 : 0);
  gauge('csdrift_run_duration_seconds', 'How long the last audit took.').set(
    (figures.finishedAt.getTime() - figures.startedAt.getTime()) / 1000,
  );

  if (figures.notificationsFailed && Object.keys(figures.notificationsFailed).length) {
    const failed = gauge(
      'csdrift_last_run_notifications_failed',
      'Messages the last audit could not send, by channel (they are tried again by the next run).',
      ['channel'],
    );
    for (const [channel, n] of Object.entries(figures.notificationsFailed)) failed.set({ channel }, n);
  }

  const report = figures.report;
  if (report) {
    const findings = gauge('csdrift_findings', 'Unsuppressed findings of the last audit.', [
      'rule',
      'severity',
      'store',
    ]);
    for (const f of report.findings) {
      if (f.status === 'suppressed') continue;
      findings.inc({ rule: f.rule, severity: f.severity, store: f.store.name });
    }
    const verified = gauge(
      'csdrift_store_verified',
      'Whether the last audit verified the store and every check on it (1) or not (0).',
      ['store'],
    );
    for (const c of report.coverage)
      verified.set({ store: c.store.name }, c.status === 'verified' && !unverifiedChecks(c).length ? 1 : 0);
    const checks = gauge(CHECK_VERIFIED.name, CHECK_VERIFIED.help, [...CHECK_VERIFIED.labelNames]);
    for (const { labels, value } of checkVerifiedSeries(report.coverage)) checks.set(labels, value);
    const unbilled = gauge('csdrift_unbilled_bytes', 'Bytes stored that nobody is billed for, by store.', [
      'store',
    ]);
    const misbilled = gauge(
      'csdrift_misbilled_bytes',
      'Bytes CloudStack bills wrongly (usage drift), by store.',
      ['store'],
    );
    for (const c of report.coverage) {
      unbilled.set({ store: c.store.name }, 0);
      misbilled.set({ store: c.store.name }, 0);
    }
    for (const f of report.findings) {
      if (f.status === 'suppressed' || f.bytes === undefined) continue;
      const billing = billingOf(f.rule);
      if (billing === 'unbilled') unbilled.inc({ store: f.store.name }, f.bytes);
      if (billing === 'misbilled') misbilled.inc({ store: f.store.name }, f.bytes);
    }
  }
  return registry.metrics();
}

/**
 * `csdrift_check_verified{store,rule}`: 1 for a check the run verified, 0 for one it could not (the
 * report's checkNotes say why); checks that do not apply to a provider have no series.
 */
export const CHECK_VERIFIED = {
  name: 'csdrift_check_verified',
  help: "Whether the last audit verified this rule's check on the store (1) or not (0); absent where it does not apply.",
  labelNames: ['store', 'rule'] as const,
};

/** The series of csdrift_check_verified a run's coverage gives (the metrics file's and the watcher's). */
export function checkVerifiedSeries(
  coverage: StoreCoverage[],
): { labels: { store: string; rule: string }; value: 0 | 1 }[] {
  return coverage.flatMap((c) =>
    Object.entries(c.checks).flatMap(([rule, status]) =>
      status === 'not_applicable'
        ? []
        : [
            {
              labels: { store: c.store.name, rule },
              value: status === 'verified' ? (1 as const) : (0 as const),
            },
          ],
    ),
  );
}

/** The last success time a previous metrics file recorded, so that a failed run keeps it. */
export function lastSuccessIn(text: string | null): number | null {
  const m = /^csdrift_last_success_timestamp_seconds\s+([0-9.eE+-]+)\s*$/m.exec(text ?? '');
  const value = m ? Number(m[1]) : NaN;
  return Number.isFinite(value) ? value : null;
}
