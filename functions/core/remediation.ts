// Guarded remediation: which findings may be fixed automatically, when to refuse, and the plan.
// Pure; functions/remediate.ts carries the plan out.
import type { AuditConfig } from './config.js';
import type { Ledger, LedgerEntry } from './ledger.js';
import type { Finding, RuleId } from './model.js';

/** Rules with an automated action. Attribute rules will re-apply CloudStack's value with updateBucket. */
export const REMEDIABLE: readonly RuleId[] = ['bucket-missing-in-store'];

export type RemediationStep =
  | {
      action: 'recreate-empty-bucket';
      bucket: string;
      store: string;
      with: 'owner keys' | 'store admin keys';
    }
  | { action: 'cloudstack-delete-bucket'; bucketUuid: string; command: string }
  | { action: 'verify-row-removed'; bucketId: number }
  | { action: 'verify-absent-in-store'; bucket: string };

export interface RemediationRecord {
  at: string;
  findingId: string;
  applied: boolean;
  steps: { step: RemediationStep; outcome: 'done' | 'failed' | 'planned'; detail?: string }[];
}

/** Why a finding must not be touched now, or nothing when it may. Checked before and again after a fresh look. */
export function refusal(
  findingId: string,
  entry: LedgerEntry | undefined,
  ledger: Ledger | null,
  config: AuditConfig,
): string | undefined {
  if (!entry || !ledger) return `finding ${findingId} is not in the ledger: run csdrift audit first`;
  if (!REMEDIABLE.includes(entry.rule))
    return `${entry.rule} has no automated remediation; follow the steps in the report`;
  if (config.rules[entry.rule]?.remediate !== true)
    return `remediation is off for ${entry.rule} (set rules.${entry.rule}.remediate: true to allow it)`;
  if (entry.status !== 'new' && entry.status !== 'open')
    return `finding ${findingId} is ${entry.status}, not open`;
  if (entry.lastRunId !== ledger.lastRunId)
    return `finding ${findingId} is stale: the last run (${ledger.lastRunId}) did not see it`;
  if (entry.seenRuns < 2)
    return `finding ${findingId} was seen on ${entry.seenRuns} run(s); it must be confirmed on two consecutive runs first`;
  return undefined;
}

export function planFor(finding: Finding): RemediationStep[] {
  const db = finding.dbBucket;
  if (finding.rule !== 'bucket-missing-in-store' || !db?.uuid || !finding.bucket) return [];
  return [
    {
      action: 'recreate-empty-bucket',
      bucket: finding.bucket,
      store: finding.store.name,
      with: finding.store.provider === 'Ceph' ? 'owner keys' : 'store admin keys',
    },
    { action: 'cloudstack-delete-bucket', bucketUuid: db.uuid, command: `deleteBucket id=${db.uuid}` },
    { action: 'verify-row-removed', bucketId: db.id },
    { action: 'verify-absent-in-store', bucket: finding.bucket },
  ];
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
  }
}
