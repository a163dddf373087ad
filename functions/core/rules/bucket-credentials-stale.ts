import { isActive, ownerText, storeRef } from '../model.js';
import type { DbBucket, RuleFinding, StorePrincipal, StoreRecord } from '../model.js';
import { STORE_KEY_DETAILS } from '../store-naming.js';
import { defineRule, isPastGrace } from './rule.js';
import {
  indexPrincipals,
  keyHint,
  principalsCoverage,
  principalsOf,
  userNamesOf,
  userOfAccount,
} from './store-users.js';

// CloudStack copies the owner's store keys onto each bucket row at creation and never updates them
// (FACTS, "Keys and principals"): rotated or re-created store users leave rows showing keys that fail.
// Compared by the key id's digest: no key id is read whole, and no secret key at all.
export const bucketCredentialsStale = defineRule({
  id: 'bucket-credentials-stale',
  defaultSeverity: 'medium',
  summary:
    "The access key CloudStack shows on an active bucket is not a live key of its owner's store user: users are handed keys that fail.",
  when: "the access key on an active bucket row is not an enabled key of the owner's enabled store user (Ceph: among the RGW user's keys; MinIO: the user itself or one of its service accounts); compared by digest, never the key or a secret",
  whatToDo:
    "copy the owner's live keys from `account_details` onto the row (SQL in the finding), or make the owner a key that matches",
  reads:
    'DB `bucket.access_key` as a digest; store: users and their keys (RGW admin `metadata/user` and `user`; MinIO `list-users` and `list-access-keys-bulk`, decrypted)',
  needs: 'listed',
  // Every user of the store is read for it: once per full run, never per targeted bucket.
  storeLevel: true,
  scan: { principals: true },
  coverage: (view) => principalsCoverage(view),
  evaluate(view, ctx) {
    const principals = principalsOf(view);
    if (!principals) return [];
    const holders = indexPrincipals(principals).keyHolders;
    const unreadKeys =
      view.store.provider === 'MinIO' && principals.unread?.some((u) => u.startsWith('service'));
    const findings: RuleFinding[] = [];
    for (const bucket of view.dbBuckets) {
      if (!isActive(bucket) || !bucket.accessKey || !bucket.owner || !isPastGrace(bucket.created, ctx))
        continue;
      const user = userOfAccount(principals, view.store.provider, bucket.owner);
      const key = user?.keys.find((k) => k.digest === bucket.accessKey?.digest);
      if (user?.enabled && key?.enabled) continue;
      const holder = holders.get(bucket.accessKey.digest);
      // MinIO without its service-account listing: a key that is no user's may be a service account's.
      if (!holder && unreadKeys) continue;
      findings.push(finding(view.store, bucket, user, key ? { enabled: key.enabled } : undefined, holder));
    }
    return findings;
  },
});

function why(
  user: StorePrincipal | undefined,
  key: { enabled: boolean } | undefined,
  holder: StorePrincipal | undefined,
): string {
  if (!user) return 'the owner has no store user at all';
  if (!user.enabled) return `the owner's store user ${user.name} is suspended`;
  if (key && !key.enabled) return `the key is disabled on the owner's store user ${user.name}`;
  if (holder) return `the key belongs to store user ${holder.name}, not to the owner's ${user.name}`;
  return `no user of the store has this key; the owner's ${user.name} has ${
    user.keys
      .filter((k) => k.enabled)
      .map(keyHint)
      .join(', ') || 'no enabled key'
  }`;
}

function finding(
  store: StoreRecord,
  bucket: DbBucket,
  user: StorePrincipal | undefined,
  key: { enabled: boolean } | undefined,
  holder: StorePrincipal | undefined,
): RuleFinding {
  const owner = bucket.owner as NonNullable<DbBucket['owner']>;
  const shown = keyHint(bucket.accessKey as { last4: string });
  const [accessDetail, secretDetail] = STORE_KEY_DETAILS[store.provider] ?? [
    'ACCESS_KEY_DETAIL',
    'SECRET_KEY_DETAIL',
  ];
  const reason = why(user, key, holder);
  return {
    store: storeRef(store),
    bucket: bucket.name,
    dbBucket: bucket,
    message: `Bucket ${bucket.name} of ${ownerText(owner)} shows access key ${shown} in CloudStack, which does not work on store ${store.name}: ${reason}.`,
    evidence: {
      rowAccessKey: shown,
      ownerUser: user?.name ?? null,
      expectedUser: userNamesOf(store.provider, owner),
      ownerUserEnabled: user?.enabled ?? null,
      ownerKeys: (user?.keys ?? []).filter((k) => k.enabled).map(keyHint),
      ...(holder && holder !== user ? { keyHolder: holder.name } : {}),
      reason,
    },
    remediation: {
      summary:
        "CloudStack copied the owner's store keys onto the bucket when it was created and never updates them: the keys it shows for this bucket fail, and anything the owner set up with them stops working.",
      steps: [
        `See which keys CloudStack holds for the owner now: \`SELECT name, RIGHT(value, 4) FROM account_details WHERE account_id = (SELECT account_id FROM bucket WHERE id = ${bucket.id}) AND name = '${accessDetail}';\` and compare them with the store user's (${store.provider === 'MinIO' ? `\`mc admin user info ALIAS ${user?.name ?? `acs-${owner.accountUuid}`}\`` : `\`radosgw-admin user info --uid=${owner.accountUuid}\``}).`,
        `If they are live, copy them onto the row (server-side, so no key is typed or shown): \`UPDATE bucket b JOIN account_details ak ON ak.account_id = b.account_id AND ak.name = '${accessDetail}' JOIN account_details sk ON sk.account_id = b.account_id AND sk.name = '${secretDetail}' SET b.access_key = ak.value, b.secret_key = sk.value WHERE b.id = ${bucket.id};\``,
        store.provider === 'MinIO'
          ? `If not, give the user a key again (\`mc admin user add ALIAS ${user?.name ?? `acs-${owner.accountUuid}`} …\` or a service account) and store it in account_details first.`
          : `If not, make the user a key (\`radosgw-admin key create --uid=${owner.accountUuid} --key-type=s3 --gen-access-key --gen-secret\`) and store it in account_details first.`,
        `Verify: the next audit no longer reports bucket ${bucket.name}, and the bucket's keys in CloudStack's UI work.`,
      ],
    },
  };
}
