// After the ledger is written: plan the messages from it, send them on every channel, then mark in
// the ledger what got through (a second conditional write), so a repeated run tells nothing twice
// and a message that failed is tried again by the next run.
import type { AuditConfig } from '../core/config.js';
import type { Ledger } from '../core/ledger.js';
import type { Notification } from '../core/notifications.js';
import { markPublished, planNotifications } from '../core/notifications.js';
import type { Report } from '../core/report.js';
import type { ReportSink } from '../reports/sink.js';
import type { Notifier } from './notifier.js';

export interface NotifyRequest {
  sink: ReportSink;
  report: Report;
  ledger: Ledger;
  ledgerVersion: string | null;
  reportUri: string;
  notifiers: Notifier[];
  config: AuditConfig['notify'];
}

export interface NotifyOutcome {
  sent: Record<string, number>;
  failures: string[];
  trippedStores: string[];
}

export async function notifyRun(request: NotifyRequest): Promise<NotifyOutcome> {
  const plan = planNotifications({
    report: request.report,
    ledger: request.ledger,
    reportUri: request.reportUri,
    notify: request.config,
  });
  const told = new Map<string, Notification>();
  const sent: Record<string, number> = {};
  const failures: string[] = [];
  for (const notifier of request.notifiers) {
    const result = await notifier.deliver(plan.messages);
    sent[notifier.channel] = result.sent.length;
    failures.push(...result.failures);
    for (const m of result.sent) told.set(m.dedupId, m);
  }
  const marked = markPublished(request.ledger, [...told.values()], request.report.runId);
  if (
    request.ledgerVersion !== null &&
    marked !== request.ledger &&
    [...told.values()].some((m) => m.kind !== 'digest')
  ) {
    await request.sink.putLedger(`${JSON.stringify(marked, null, 2)}\n`, request.ledgerVersion);
  }
  return { sent, failures, trippedStores: plan.trippedStores };
}
