// The steps an automated remediation is made of, and the two plans rules use: the seed case's
// (re-create the bucket empty, then delete it through CloudStack) and updateBucket's (CloudStack
// re-applies its recorded value in the store). functions/remediate.ts carries the steps out.
import type { Finding, RuleId } from './model.js';

export type RemediationStep =
  | {
      action: 'recreate-empty-bucket';
      bucket: string;
      store: string;
      with: 'owner keys' | 'store admin keys';
    }
  | { action: 'cloudstack-delete-bucket'; bucketUuid: string; command: string }
  | { action: 'verify-row-removed'; bucketId: number }
  | { action: 'verify-absent-in-store'; bucket: string }
  | {
      action: 'cloudstack-update-bucket';
      bucketUuid: string;
      parameter: string;
      value: string;
      command: string;
    }
  | { action: 'verify-finding-gone'; findingId: string; rule: RuleId; store: string };

/** A bucket CloudStack cannot delete because its store no longer has it: re-create it empty, then delete it. */
export function recreateThenDelete(finding: Finding): RemediationStep[] {
  const db = finding.dbBucket;
  if (!db?.uuid || !finding.bucket) return [];
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

/**
 * updateBucket with one parameter: CloudStack calls the store driver whenever one is given, so it
 * re-applies its recorded value (the finding's `expected`, in CloudStack's terms); a fresh audit then
 * confirms the drift is gone.
 */
export function updateBucketWith(parameter: string): (finding: Finding) => RemediationStep[] {
  return (finding) => {
    const db = finding.dbBucket;
    if (!db?.uuid) return [];
    const value = String(finding.expected);
    return [
      {
        action: 'cloudstack-update-bucket',
        bucketUuid: db.uuid,
        parameter,
        value,
        command: `updateBucket id=${db.uuid} ${parameter}=${value}`,
      },
      { action: 'verify-finding-gone', findingId: finding.id, rule: finding.rule, store: finding.store.name },
    ];
  };
}
