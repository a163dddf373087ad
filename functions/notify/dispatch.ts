// After the ledger is written: plan the messages from it, send them on every channel, then mark in
// the ledger what got through (a second conditional write), so a repeated run tells nothing twice
// and a message that failed is tried again by the next run.
import type { AuditConfig } from '../core/config.js';
import type { Ledger } from '../core/ledger.js';
import type { Notification } from '../core/notifications.js';
import { markPublished, planNotifications, stormMemory } from '../core/notifications.js';
import type { Report } from '../core/report.js';
import type { ReportSink } from '../reports/sink.js';
import { writeOverConflicts } from '../reports/merge-retry.js';
import { LEDGER_KEY } from '../reports/sink.js';
import { LedgerConflictError } from '../core/errors.js';
import type { Notifier } from './notifier.js';

export interface NotifyRequest {
  sink: ReportSink;
  report: Report;
  ledger: Ledger;
  ledgerVersion: string | null;
  reportUri: string;
  notifiers: Notifier[];
  config: AuditConfig['notify'];
  now?: () => Date;
}

export interface NotifyOutcome {
  sent: Record<string, number>;
  failures: string[];
  /** Stores, by name, whose new findings went into one "investigate this store" task. */
  trippedStores: string[];
}

export async function notifyRun(request: NotifyRequest): Promise<NotifyOutcome> {
  const now = request.now ?? (() => new Date());
  // An event run's breaker counts what event runs told lately, as the ledger records it: the same
  // in the watcher and in the AWS event-audit function, across batches, processes and invocations.
  const storm = request.report.trigger === 'event' ? stormMemory(request.ledger, now()) : {};
  const plan = planNotifications({
    report: request.report,
    ledger: request.ledger,
    reportUri: request.reportUri,
    notify: request.config,
    ...storm,
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
  const messages = [...told.values()];
  if (request.ledgerVersion !== null && messages.some((m) => m.kind !== 'digest')) {
    await markInLedger(request.sink, request.ledger, request.ledgerVersion, (ledger) =>
      markPublished(ledger, messages, {
        runId: request.report.runId,
        trigger: request.report.trigger,
        at: now(),
      }),
    );
  }
  return { sent, failures, trippedStores: plan.trippedStores };
}

/** The marks of what was sent, written conditionally; a run that wrote in between is read again and kept. */
async function markInLedger(
  sink: ReportSink,
  ledger: Ledger,
  version: string,
  mark: (ledger: Ledger) => Ledger,
): Promise<void> {
  await writeOverConflicts(
    { ledger, version },
    async (current) => {
      await sink.putLedger(`${JSON.stringify(mark(current.ledger), null, 2)}\n`, current.version);
    },
    async () => {
      const fresh = await sink.readLedger();
      if (!fresh.ledger || fresh.version === null)
        throw new LedgerConflictError(
          `${sink.location(LEDGER_KEY)} is gone: the marks of what was sent are not written`,
        );
      return { ledger: fresh.ledger, version: fresh.version };
    },
  );
}
