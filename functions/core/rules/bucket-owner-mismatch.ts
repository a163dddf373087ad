import { ownerText, storeRef } from '../model.js';
import type { DbBucket, RuleFinding, StoreAccounts } from '../model.js';
import { isActive } from '../model.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';
import { cmd } from '../shell.js';
import type { RuleContext, StoreView } from './rule.js';

/** The MinIO user CloudStack derives for an account, and the name it used before January 2024. */
export function minioUsers(bucket: DbBucket): { user: string; legacy: string | null } {
  const o = bucket.owner;
  return { user: `acs-${o?.accountUuid ?? '?'}`, legacy: o ? `acs-${o.accountName}` : null };
}

export const bucketOwnerMismatch = defineRule({
  id: 'bucket-owner-mismatch',
  defaultSeverity: 'high',
  scan: { attributes: ['owner'], inspect: inspectionTargets },
  summary:
    "The store's owner of the bucket is not the user CloudStack derives for the owning account (Ceph: the account uuid; MinIO: acs-<account uuid> and its canned policy).",
  when: "Ceph: the bucket's RGW owner is not the account's uuid. MinIO: `bucket.access_key` is not `acs-<account uuid>` (or the pre-2024 `acs-<account name>`), the user is missing, its canned policy `acs-<uuid>-policy` does not grant the bucket or is not attached, or another account's policy grants it too; and a canned policy that still grants a bucket deleted in CloudStack (apache/cloudstack#12173, `attribute: accountPolicy`)",
  whatToDo:
    'give the bucket back (`radosgw-admin bucket link/chown`), or fix the policy (`mc admin policy …`)',
  reads:
    "DB `bucket`, `account`; store: each bucket's owner (RGW admin listing), the owner's user and the canned policies (MinIO admin API)",
  needs: 'verified',
  coverage: attributeCoverage('owner'),
  evaluate(view, ctx) {
    return [
      ...comparable(view, 'owner', ctx).flatMap(({ bucket, value }) => {
        if (!bucket.owner) return [];
        if (value.storeOwner !== undefined) {
          if (value.storeOwner === bucket.owner.accountUuid) return [];
          return [ownerFinding(view, bucket, bucket.owner.accountUuid, value.storeOwner, [])];
        }
        if (!value.user) return [];
        return minioProblems(view, bucket, value.user, accountsOf(view));
      }),
      ...staleGrants(view, ctx),
    ];
  },
});

function accountsOf(view: StoreView): StoreAccounts | null {
  const a = view.scan.accounts;
  return a && 'value' in a ? a.value : null;
}

function minioProblems(
  view: StoreView,
  bucket: DbBucket,
  user: { name: string; exists: boolean; policies: string[] },
  accounts: StoreAccounts | null,
): RuleFinding[] {
  const { user: expected, legacy } = minioUsers(bucket);
  const names = new Set([expected, legacy].filter(Boolean));
  const problems: string[] = [];
  if (bucket.accessKeyUser && !names.has(bucket.accessKeyUser))
    problems.push(`bucket.access_key names MinIO user ${bucket.accessKeyUser}`);
  if (!user.exists) problems.push(`MinIO has no user ${user.name}`);
  const grantedBy = accounts
    ? Object.entries(accounts.policies)
        .filter(([, buckets]) => buckets.includes(bucket.name))
        .map(([policy]) => policy)
    : [];
  const own = `${user.name}-policy`;
  if (accounts && !grantedBy.includes(own))
    problems.push(`the account's canned policy ${own} does not grant it`);
  else if (user.exists && !user.policies.includes(own))
    problems.push(`user ${user.name} does not have its policy ${own} attached`);
  const others = grantedBy.filter((p) => p !== own && /^acs-.+-policy$/.test(p));
  if (others.length) problems.push(`other accounts' policies grant it too (${others.join(', ')})`);
  if (!problems.length) return [];
  const actual =
    bucket.accessKeyUser && !names.has(bucket.accessKeyUser) ? bucket.accessKeyUser : (others[0] ?? null);
  return [ownerFinding(view, bucket, expected, actual, problems, grantedBy)];
}

function ownerFinding(
  view: StoreView,
  bucket: DbBucket,
  expected: string,
  actual: string | null,
  problems: string[],
  grantedBy?: string[],
): RuleFinding {
  const ceph = view.store.provider === 'Ceph';
  const detail = ceph ? `RGW user ${actual} owns it` : problems.join('; ');
  return attributeFinding(view, bucket, {
    attribute: 'owner',
    expected,
    actual,
    message: `Bucket ${bucket.name} belongs to ${ownerText(bucket.owner)} in CloudStack, but in store ${view.store.name} ${detail}.`,
    evidence: { ...(problems.length ? { problems } : {}), ...(grantedBy ? { grantedBy } : {}) },
    remediation: {
      summary:
        'Another store user controls (or can reach) the bucket: the owning account may be locked out, or another account may read its data.',
      steps: ceph
        ? [
            `Find out how the bucket changed hands (${cmd`radosgw-admin bucket stats --bucket=${bucket.name}`}).`,
            `Give it back to the account's RGW user: ${cmd`radosgw-admin bucket link --bucket=${bucket.name} --uid=${expected} && radosgw-admin bucket chown --bucket=${bucket.name} --uid=${expected}`}`,
            `Verify: ${cmd`radosgw-admin bucket stats --bucket=${bucket.name}`} shows owner ${expected}, and the next audit no longer reports it.`,
          ]
        : [
            `Attach the account's policy to its user: ${cmd`mc admin policy attach ALIAS ${`${expected}-policy`} --user=${expected}`}`,
            `Make sure ${expected}-policy lists arn:aws:s3:::${bucket.name}/* and no other account's policy does: mc admin policy info ALIAS <policy>`,
            `Verify: ${cmd`mc admin user info ALIAS ${expected}`} shows ${expected}-policy, and the next audit no longer reports it.`,
          ],
    },
  });
}

/**
 * apache/cloudstack#12173: deleting a bucket can leave it in the account's canned policy, so the
 * account still reaches a bucket of that name, including one someone else creates later.
 */
function staleGrants(view: StoreView, ctx: RuleContext): RuleFinding[] {
  const accounts = accountsOf(view);
  if (!accounts || attributeCoverage('owner')(view, ctx).status === 'not_applicable') return [];
  const active = new Set(view.dbBuckets.filter(isActive).map((b) => b.name));
  const removed = new Map<string, DbBucket>();
  for (const b of view.dbBuckets) if (!isActive(b)) removed.set(b.name, b);
  return Object.entries(accounts.policies).flatMap(([policy, buckets]) =>
    buckets
      .filter((name) => /^acs-.+-policy$/.test(policy) && !active.has(name) && removed.has(name))
      .map((name) => {
        const row = removed.get(name) as DbBucket;
        return {
          store: storeRef(view.store),
          bucket: name,
          dbBucket: row,
          attribute: 'accountPolicy',
          expected: null,
          actual: policy,
          message: `Bucket ${name} was deleted in CloudStack (${row.removed}), but canned policy ${policy} in store ${view.store.name} still grants access to it (apache/cloudstack#12173).`,
          evidence: { policy, removedAt: row.removed },
          remediation: {
            summary: 'A stale grant: whoever holds the policy can reach any future bucket of that name.',
            steps: [
              `Remove arn:aws:s3:::${name}/* from ${policy}: ${cmd`mc admin policy info ALIAS ${policy}`} > p.json, edit it, then ${cmd`mc admin policy create ALIAS ${policy} p.json`}`,
              `Verify: ${cmd`mc admin policy info ALIAS ${policy}`} no longer lists ${name}, and the next audit no longer reports it.`,
            ],
          },
        } satisfies RuleFinding;
      }),
  );
}
