// The watcher's figures for Prometheus (GET /metrics, docs/contract.md, "Metrics").
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditConfig } from '../core/config.js';
import type { Ledger } from '../core/ledger.js';
import type { RuleId } from '../core/model.js';
import { RULES } from '../core/rules/index.js';
import type { DropReason } from '../sources/change-source.js';
import type { EventSource } from '../sources/cloudstack-event.js';
import type { EventAuditObserver } from './event-audits.js';
import type { StoreCoverage } from '../core/model.js';
import { CHECK_VERIFIED, checkVerifiedSeries } from '../metrics/run-metrics.js';

export class WatchMetrics implements EventAuditObserver {
  readonly registry = new Registry();
  readonly eventsReceived = new Counter({
    name: 'csdrift_events_received_total',
    help: 'Change events received, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly checkVerified = new Gauge({ ...CHECK_VERIFIED, registers: [this.registry] });
  readonly notificationsFailed = new Counter({
    name: 'csdrift_notifications_failed_total',
    help: 'Messages a run could not send, by channel (each is tried again by the next run that tells).',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });
  readonly remediations = new Counter({
    name: 'csdrift_remediations_total',
    help: 'Actions on findings (fix, suppress, not-drift) by outcome (done, refused, failed) and by whom (auto, slack).',
    labelNames: ['action', 'outcome', 'via'] as const,
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'csdrift_events_dropped_total',
    help: 'Change events dropped: malformed, refused (bad signature), or naming nothing csdrift audits.',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });
  readonly eventAudits = new Counter({
    name: 'csdrift_event_audits_total',
    help: 'Targeted audits started by change events, by the status of their report (or "failed").',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly eventToVerdict = new Histogram({
    name: 'csdrift_event_to_verdict_seconds',
    help: "From the change's own time to the written verdict of the audit it started.",
    buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600],
    registers: [this.registry],
  });
  readonly lastFullAuditSuccess = new Gauge({
    name: 'csdrift_last_full_audit_success_timestamp_seconds',
    help: 'When the last full audit that verified what it was asked to (in_sync or drift) finished.',
    registers: [this.registry],
  });
  readonly openFindings = new Gauge({
    name: 'csdrift_open_findings',
    help: 'Findings open (new or open) in the ledger, by rule, severity and store.',
    labelNames: ['rule', 'severity', 'store'] as const,
    registers: [this.registry],
  });
  readonly sourceUp = new Gauge({
    name: 'csdrift_event_source_up',
    help: 'Whether each event source is connected and reading (1) or not (0).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly eventsPending = new Gauge({
    name: 'csdrift_events_pending',
    help: 'Change events handed over by the sources and not yet audited (what backpressure bounds).',
    registers: [this.registry],
  });
  readonly paused = new Gauge({
    name: 'csdrift_sources_paused',
    help: 'Whether the sources are paused (1) because too many events wait for their audits.',
    registers: [this.registry],
  });

  received(source: EventSource, count = 1): void {
    this.eventsReceived.inc({ source }, count);
  }

  dropped(source: EventSource, reason: DropReason): void {
    this.eventsDropped.inc({ source, reason });
  }

  audited(status: string): void {
    this.eventAudits.inc({ status });
  }

  verdictAfter(seconds: number): void {
    this.eventToVerdict.observe(seconds);
  }

  /** The checks a run covered, as it left them (a targeted run updates only the stores and rules it looked at). */
  setChecks(coverage: StoreCoverage[]): void {
    for (const { labels, value } of checkVerifiedSeries(coverage)) this.checkVerified.set(labels, value);
  }

  /** The open findings as the ledger now holds them; severities as the config sets them. */
  setOpenFindings(ledger: Ledger, config: AuditConfig): void {
    this.openFindings.reset();
    for (const entry of Object.values(ledger.entries)) {
      if (entry.status !== 'new' && entry.status !== 'open') continue;
      const rule: RuleId = entry.rule;
      const severity = config.rules[rule]?.severity ?? RULES[rule].defaultSeverity;
      this.openFindings.inc({ rule, severity, store: entry.store.name });
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
