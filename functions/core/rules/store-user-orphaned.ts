import { storeRef } from '../model.js';
import type { RuleFinding, StorePrincipal, StoreRecord } from '../model.js';
import { defineRule } from './rule.js';
import type { UserOwnership } from './store-users.js';
import { indexAccounts, keyHint, ownershipOf, principalsCoverage, principalsOf } from './store-users.js';

// CloudStack removes an account's buckets, but its store user often stays with working keys: the
// Cloudian plugin never deletes users, and MinIO's renaming (acs-<name> to acs-<uuid>, PR #8425) left
// the old ones behind (FACTS, "Keys and principals").
export const storeUserOrphaned = defineRule({
  id: 'store-user-orphaned',
  defaultSeverity: 'medium',
  summary:
    'A store user CloudStack made for an account outlives it: the account is removed or unknown, yet the user has working keys or buckets.',
  when: 'a store user named as CloudStack names them (Ceph uid = account uuid; MinIO `acs-<uuid>` or the old `acs-<name>`) whose account is removed or unknown to this CloudStack, and which still has an enabled key or owns a bucket; with its keys and buckets',
  whatToDo:
    'suspend the user at once, then move or delete what it owns and remove it (commands in the finding)',
  reads:
    "DB `account`; store: users, keys and policies (as for `bucket-credentials-stale`), the store's listing for what they own",
  needs: 'listed',
  storeLevel: true,
  wholeStore: true,
  scan: { principals: true },
  coverage: (view) => principalsCoverage(view, true),
  evaluate(view) {
    const principals = principalsOf(view);
    if (!principals || !view.accounts) return [];
    const index = indexAccounts(view.accounts);
    const findings: RuleFinding[] = [];
    for (const user of principals.principals) {
      if (user.kind !== 'user' || user.cloudstack) continue;
      const owner = ownershipOf(user.name, view.store.provider, index);
      if (owner.kind !== 'removed' && owner.kind !== 'unknown') continue;
      const keys = user.enabled ? user.keys.filter((k) => k.enabled) : [];
      const held = view.totals.holdings[user.name] ?? { count: 0, examples: [] };
      if (!keys.length && !held.count) continue;
      findings.push(finding(view.store, user, owner, keys.map(keyHint), held));
    }
    return findings;
  },
});

function whose(owner: UserOwnership): string {
  if (owner.kind === 'removed') return `account ${owner.account.name} (${owner.account.uuid}), removed`;
  if (owner.kind === 'unknown')
    return `an account ${owner.by === 'uuid' ? `uuid ${owner.key}` : `named ${owner.key}`} this CloudStack does not have`;
  return '';
}

function finding(
  store: StoreRecord,
  user: StorePrincipal,
  owner: UserOwnership,
  keys: string[],
  held: { count: number; examples: string[] },
): RuleFinding {
  const minio = store.provider === 'MinIO';
  // The buckets it still has (the store's owner on Ceph, those its policies grant on MinIO), named
  // up to the first few of a store of any size.
  const buckets = held.examples;
  const more = held.count > buckets.length ? `, and ${held.count - buckets.length} more` : '';
  const has = [
    keys.length ? `${keys.length} enabled key(s) (${keys.join(', ')})` : '',
    held.count
      ? `${held.count} bucket(s) (${buckets.slice(0, 5).join(', ')}${held.count > 5 ? ', …' : ''})`
      : '',
  ].filter(Boolean);
  return {
    store: storeRef(store),
    bucket: null,
    dbBucket: null,
    attribute: `user:${user.name}`,
    message: `${store.provider} user ${user.name} on store ${store.name} belongs to ${whose(owner)}, yet it still has ${has.join(' and ')}.`,
    evidence: {
      user: user.name,
      account:
        owner.kind === 'removed'
          ? { uuid: owner.account.uuid, name: owner.account.name, removed: true }
          : owner.kind === 'unknown'
            ? { [owner.by]: owner.key, known: false }
            : null,
      enabled: user.enabled,
      enabledKeys: keys,
      buckets,
      ...(more ? { bucketCount: held.count } : {}),
      ...(user.policies?.length ? { policies: user.policies } : {}),
    },
    remediation: {
      summary:
        "CloudStack no longer knows this user's account, so nobody is billed for what it stores and nobody rotates its keys: anyone who kept them can still read, write and delete.",
      steps: minio
        ? [
            `Disable it now (nothing is deleted): \`mc admin user disable ALIAS ${user.name}\`.`,
            buckets.length
              ? `Decide what happens to ${buckets.join(', ')}${more}: hand them to a live account through CloudStack, or delete them (\`mc rb --force ALIAS/BUCKET\`) once their data is not needed.`
              : 'It has no bucket left.',
            `Remove it with its service accounts: \`mc admin user rm ALIAS ${user.name}\`; remove its per-account policy if nothing else uses it (\`mc admin policy rm ALIAS POLICY\`).`,
            'Verify: the next audit no longer reports it.',
          ]
        : [
            `Suspend it now (its keys stop working, nothing is deleted): \`radosgw-admin user suspend --uid=${user.name}\`.`,
            buckets.length
              ? `Decide what happens to ${buckets.join(', ')}${more}: link them to a live account's user (\`radosgw-admin bucket link --bucket=BUCKET --uid=NEW_UID\`) and import them in CloudStack, or delete them with the user.`
              : 'It owns no bucket.',
            `Remove it: \`radosgw-admin user rm --uid=${user.name}\` (add \`--purge-data\` to delete the buckets it still owns).`,
            'Verify: the next audit no longer reports it.',
          ],
    },
  };
}
