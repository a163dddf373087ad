// Guarded remediation: which findings may be fixed automatically, when to refuse, and the plan.
// Pure; functions/remediate.ts carries the plan out.
import type { AuditConfig } from './config.js';
import type { ActionBy, Ledger, LedgerEntry } from './ledger.js';
import type { Finding } from './model.js';
import { bucketNameProblem } from './bucket-name.js';
import type { RemediationStep } from './remediation-steps.js';
import { RULES } from './rules/index.js';

export type { RemediationStep } from './remediation-steps.js';

export interface RemediationRecord {
  at: string;
  findingId: string;
  applied: boolean;
  steps: { step: RemediationStep; outcome: 'done' | 'failed' | 'planned'; detail?: string }[];
}

/**
 * Why a finding must not be touched now (or, without `apply`, not even planned), or nothing when it
 * may. A plan changes nothing, so it needs no opt-in; carrying it out needs `rules.<rule>.remediate`.
 */
export function refusal(
  findingId: string,
  entry: LedgerEntry | undefined,
  ledger: Ledger | null,
  config: AuditConfig,
  apply = true,
  approval: Approval = { via: 'cli' },
): string | undefined {
  if (!entry || !ledger) return `finding ${findingId} is not in the ledger: run csdrift audit first`;
  if (!RULES[entry.rule].remediation)
    return `${entry.rule} has no automated remediation; follow the steps in the report`;
  if (entry.status !== 'new' && entry.status !== 'open')
    return `finding ${findingId} is ${entry.status}, not open`;
  // A person's click (an allowed approver) and the owner's failed delete are consent and intent of
  // their own: they replace the config's opt-in and the second sighting; the fresh audit still runs.
  if (approval.via !== 'cli') return undefined;
  if (apply && !remediationAllowed(config, entry.rule))
    return `remediation is off for ${entry.rule} (set rules.${entry.rule}.remediate: true to allow it)`;
  // Staleness is judged by observation, never by "the last run": a run that covered this bucket and
  // rule and did not see the finding resolved it, so an open entry is one the last run that looked
  // saw. Event runs of other buckets leave it as it is; the fresh audit below looks again anyway.
  if (entry.seenRuns < 2)
    return `finding ${findingId} was seen on ${entry.seenRuns} run(s); it must be confirmed on two consecutive runs first`;
  return undefined;
}

/** Who consents to a fix: the command line (opt-in and two sightings), an approver's click, or the self-healing rule. */
export type Approval = { via: 'cli' } | { via: 'slack'; user: string } | { via: 'auto' };

/** How an approval is written in the audit trail (`by`). */
export function actionBy(approval: Approval): ActionBy {
  return approval.via === 'slack'
    ? `slack:${approval.user}`
    : approval.via === 'auto'
      ? 'auto:failed-delete'
      : 'cli';
}

/** Whether the operator allowed `--apply` for this rule's findings (off unless said). */
export function remediationAllowed(config: AuditConfig, rule: Finding['rule']): boolean {
  return config.rules[rule]?.remediate === true;
}

/** Why a finding that passed the refusals still has no plan, or nothing when it has one. */
export function whyNoPlan(finding: Finding): string | undefined {
  if (!finding.dbBucket?.uuid || !finding.bucket) return 'the finding names no CloudStack bucket uuid';
  const impossible = bucketNameProblem(finding.bucket);
  if (impossible)
    return `no store can have a bucket named ${finding.bucket} (${impossible}); follow the finding's steps`;
  return RULES[finding.rule].remediation?.whyNot?.(finding);
}

export function planFor(finding: Finding): RemediationStep[] {
  const remediation = RULES[finding.rule].remediation;
  if (!remediation || whyNoPlan(finding)) return [];
  return remediation.plan(finding);
}

export function describeStep(step: RemediationStep): string {
  switch (step.action) {
    case 'recreate-empty-bucket':
      return `re-create an empty bucket ${step.bucket} in store ${step.store} with the ${step.with}, so that CloudStack can delete it`;
    case 'cloudstack-delete-bucket':
      return `call CloudStack ${step.command} (signed API call; waits for its async job)`;
    case 'verify-row-removed':
      return `verify that bucket row ${step.bucketId} is now removed in the CloudStack database`;
    case 'verify-absent-in-store':
      return `verify that the store no longer has ${step.bucket} (HeadBucket 404)`;
    case 'cloudstack-update-bucket':
      return `call CloudStack ${step.command} (signed API call), which re-applies CloudStack's recorded value in the store`;
    case 'verify-finding-gone':
      return `verify with a fresh audit of ${step.store} (${step.rule}) that the drift is gone`;
  }
}
