// After the ledger is written: plan the messages from it, send them on every channel, then mark in
// the ledger what got through (a second conditional write), so a repeated run tells nothing twice
// and a message that failed is tried again by the next run.
import type { AuditConfig } from '../core/config.js';
import type { Ledger } from '../core/ledger.js';
import type { Notification } from '../core/notifications.js';
import { markPublished, planNotifications, stormMemory } from '../core/notifications.js';
import type { Report } from '../core/report.js';
import type { StateStorage } from '../state/storage.js';
import { changeLedger } from '../state/ledger-store.js';
import type { Notifier } from './notifier.js';

export interface NotifyRequest {
  storage: StateStorage;
  report: Report;
  ledger: Ledger;
  ledgerVersion: string | null;
  reportUri: string;
  notifiers: Notifier[];
  config: AuditConfig['notify'];
  /** Messages the run made beside the plan (self-healing's `healed`). */
  extra?: Notification[];
  /** Lines a task adds, by finding id. */
  notes?: Record<string, string[]>;
  now?: () => Date;
}

export interface NotifyOutcome {
  sent: Record<string, number>;
  failures: string[];
  /** Messages not sent, by channel (every channel tried, 0 where all went through): what monitoring counts. */
  failed: Record<string, number>;
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
    ...(request.notes ? { notes: request.notes } : {}),
    ...storm,
  });
  plan.messages.unshift(...(request.extra ?? []));
  const told = new Map<string, Notification>();
  const sent: Record<string, number> = {};
  const failures: string[] = [];
  const failed: Record<string, number> = {};
  for (const notifier of request.notifiers) {
    const result = await notifier.deliver(plan.messages);
    sent[notifier.channel] = result.sent.length;
    // Messages, not failure lines: a refused login is one line for every message it kept back.
    failed[notifier.channel] = result.failures.length ? plan.messages.length - result.sent.length : 0;
    failures.push(...result.failures);
    for (const m of result.sent) told.set(m.dedupId, m);
  }
  const messages = [...told.values()];
  if (request.ledgerVersion !== null && messages.some((m) => m.kind !== 'digest')) {
    // A second conditional write; a run that wrote in between is read again and kept.
    await changeLedger(
      request.storage,
      { ledger: request.ledger, version: request.ledgerVersion },
      (ledger) =>
        markPublished(ledger, messages, {
          runId: request.report.runId,
          trigger: request.report.trigger,
          at: now(),
        }),
    );
  }
  return { sent, failures, failed, trippedStores: plan.trippedStores };
}
