// What people and the self-healing rule do to findings, as changes of the ledger: the audit trail of
// each finding, the suppressions written by clicks, and the guards of self-healing (its rate limit
// and its loop guard). Pure: a ledger in, a ledger or a verdict out.
import { createHash } from 'node:crypto';
import type { AuditConfig } from './config.js';
import type { FindingAction, Ledger, LedgerEntry, LedgerSuppression } from './ledger.js';

/** The ledger with one action added to a finding's trail (unchanged when the finding is gone from it). */
export function withAction(
  ledger: Ledger,
  findingId: string,
  action: FindingAction,
  resolvedBy?: { at: string; runId: string },
): Ledger {
  const entry = ledger.entries[findingId];
  if (!entry) return ledger;
  const actions = [...(entry.actions ?? []), action];
  let next: LedgerEntry = { ...entry, actions };
  if (resolvedBy) {
    // The fix verified the row removed and the store empty: the entry is resolved now, and its own
    // message (healed, or the update of the Slack task) told it, so no later run says it again.
    const { finding: _gone, ...kept } = next;
    next = {
      ...kept,
      status: 'resolved',
      resolvedAt: resolvedBy.at,
      observedAt: resolvedBy.at,
      seenRuns: 0,
      lastRunId: resolvedBy.runId,
      published: {
        ...entry.published,
        task: entry.published?.task ?? resolvedBy.runId,
        resolved: resolvedBy.runId,
      },
    };
  }
  return { ...ledger, entries: { ...ledger.entries, [findingId]: next } };
}

/** Self-healing runs on this store within the hour before `now` (dry runs not counted). */
export function autoHealsSince(ledger: Ledger, storeUuid: string, now: Date): number {
  const since = now.getTime() - 3_600_000;
  let n = 0;
  for (const entry of Object.values(ledger.entries)) {
    if (entry.store.uuid !== storeUuid) continue;
    for (const a of entry.actions ?? [])
      if (a.by === 'auto:failed-delete' && !a.dryRun && a.outcome !== 'refused' && Date.parse(a.at) > since)
        n++;
  }
  return n;
}

/**
 * Why the self-healing rule must leave this finding to a person, or nothing when it may act. It acts
 * once per appearance of a finding: what it tried and failed (its own deleteBucket failing raises the
 * same failed-delete event) is never tried again by it, so its own calls cannot start a loop.
 */
export function healRefusal(input: {
  entry: LedgerEntry | undefined;
  ledger: Ledger;
  config: AuditConfig;
  killSwitch: boolean;
  now: Date;
}): string | undefined {
  const { entry, config } = input;
  const auto = config.remediation.auto;
  if (!auto.failedDeletes) return 'self-healing is off (remediation.auto.failedDeletes)';
  if (input.killSwitch) return 'self-healing is stopped by the kill switch (state/auto-remediation.off)';
  if (!entry || (entry.status !== 'new' && entry.status !== 'open')) return 'the finding is not open';
  const tried = (entry.actions ?? []).find(
    (a) => a.by === 'auto:failed-delete' && !a.dryRun && Date.parse(a.at) >= Date.parse(entry.firstSeen),
  );
  if (tried) return `self-healing already tried it at ${tried.at} (${tried.outcome}); a person decides now`;
  const recent = autoHealsSince(input.ledger, entry.store.uuid, input.now);
  if (recent >= auto.maxPerHour)
    return `self-healing on store ${entry.store.name} reached its limit of ${auto.maxPerHour} per hour (remediation.auto.maxPerHour)`;
  return undefined;
}

/** A suppression's id: short, stable for the same finding and time, typed by people (`csdrift suppressions remove`). */
export function suppressionId(findingId: string, at: string): string {
  return createHash('sha256').update(`${findingId}\n${at}`).digest('hex').slice(0, 12);
}

/** The ledger with a click's suppression of a finding (one per finding: a new click replaces the old). */
export function withSuppression(
  ledger: Ledger,
  input: { findingId: string; reason: string; owner: string; at: Date; days: number | null },
): { ledger: Ledger; suppression?: LedgerSuppression } {
  const entry = ledger.entries[input.findingId];
  if (!entry) return { ledger };
  const at = input.at.toISOString();
  const suppression: LedgerSuppression = {
    id: suppressionId(input.findingId, at),
    rule: entry.rule,
    store: entry.store,
    bucket: entry.bucket,
    reason: input.reason,
    owner: input.owner,
    expires:
      input.days === null ? null : new Date(input.at.getTime() + input.days * 86_400_000).toISOString(),
    at,
    findingId: input.findingId,
  };
  const others = (ledger.suppressions ?? []).filter((s) => s.findingId !== input.findingId);
  return { ledger: { ...ledger, suppressions: [...others, suppression] }, suppression };
}

/** The ledger without the suppressions whose id starts with `id` (at least 6 characters). */
export function withoutSuppression(
  ledger: Ledger,
  id: string,
): { ledger: Ledger; removed: LedgerSuppression[] } {
  const all = ledger.suppressions ?? [];
  const removed = id.length >= 6 ? all.filter((s) => s.id.startsWith(id)) : [];
  if (!removed.length) return { ledger, removed };
  const kept = all.filter((s) => !removed.includes(s));
  const { suppressions: _old, ...rest } = ledger;
  return { ledger: kept.length ? { ...rest, suppressions: kept } : rest, removed };
}

/**
 * What is wrong with the config's self-healing and buttons: errors stop `watch` and `validate` (the
 * operator asked for something that cannot happen), warnings are said and the run goes on.
 */
export function actionsSetup(config: AuditConfig): {
  errors: string[];
  warnings: string[];
  summary: string[];
} {
  const { auto, approvers } = config.remediation;
  const api = Boolean(config.cloudstack?.apiKey && config.cloudstack.secretKey);
  const signing = Boolean(config.notify?.slack?.signingSecret);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (auto.failedDeletes && !auto.dryRun && !api)
    errors.push(
      'remediation.auto.failedDeletes: needs the CloudStack API to act (cloudstack.apiUrl, and apiKey/secretKey or secretId); or set remediation.auto.dryRun: true',
    );
  if (signing && !approvers.length)
    warnings.push(
      'notify.slack.signingSecret turns the buttons on, but remediation.approvers is empty: every click is refused',
    );
  if (approvers.length && !signing)
    warnings.push(
      'remediation.approvers has no effect without notify.slack.signingSecret: tasks carry no buttons',
    );
  if (signing && approvers.length && !api)
    warnings.push(
      'the Fix button needs the CloudStack API (cloudstack.apiUrl and its keys); Suppress and Not drift work without it',
    );
  const summary = [
    `self-healing of failed deletes: ${auto.failedDeletes ? `on${auto.dryRun ? ' (dry run)' : ''}, at most ${auto.maxPerHour} per store per hour` : 'off'}`,
    `Slack buttons: ${signing ? `on, ${approvers.length} approver(s)` : 'off'}`,
  ];
  return { errors, warnings, summary };
}
