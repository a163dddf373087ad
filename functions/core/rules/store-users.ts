// What the key rules share: whether a store's users were read, and which store user CloudStack made
// for an account. CloudStack's drivers name them (FACTS, "Keys and principals"): Ceph's uid is the
// account uuid; MinIO's user is `acs-<account uuid>`, or `acs-<account name>` for accounts made
// before January 2024 (apache/cloudstack#8425).
import type { AccountRecord, CheckVerdict, StorePrincipal, StorePrincipals } from '../model.js';
import { storeUserNames } from '../store-naming.js';
import type { StoreView } from './rule.js';

/** The providers whose adapters list their users (stores/rgw-principals.ts, stores/minio-principals.ts). */
const USER_NAMING = new Set(['Ceph', 'MinIO']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The store's principals when they were read; the verdict otherwise. */
export function principalsOf(view: StoreView): StorePrincipals | undefined {
  const p = view.scan.principals;
  return p && 'value' in p && !p.value.refused ? p.value : undefined;
}

export function principalsCoverage(view: StoreView, needsAccounts = false): CheckVerdict {
  if (view.scan.status === 'skipped') return { status: 'not_applicable', why: 'the store is skipped' };
  if (!USER_NAMING.has(view.store.provider))
    return {
      status: 'not_applicable',
      why: `csdrift does not list the users of ${view.store.provider} stores (Ceph and MinIO only)`,
    };
  const p = view.scan.principals;
  if (!p) return { status: 'unverified', why: "the store's users were not read (its listing failed)" };
  if ('error' in p) return { status: 'unverified', why: p.error };
  if (p.value.refused) return { status: 'not_applicable', why: p.value.refused };
  if (needsAccounts && !view.accounts)
    return { status: 'unverified', why: "CloudStack's accounts were not read (a run scoped to buckets)" };
  return p.value.unread?.length
    ? {
        status: 'verified',
        why: `verified without what the store would not list: ${p.value.unread.join('; ')}`,
      }
    : { status: 'verified' };
}

/** A reading of the users, indexed: by user name, and each key digest's holder. */
interface PrincipalIndex {
  users: Map<string, StorePrincipal>;
  keyHolders: Map<string, StorePrincipal>;
}

const principalIndexes = new WeakMap<StorePrincipals, PrincipalIndex>();

/**
 * Indexed once per reading of the users, whichever shard or rule asks first: looked up for every
 * row, a search through ten thousand users would cost a million rows ten billion comparisons.
 */
export function indexPrincipals(principals: StorePrincipals): PrincipalIndex {
  let index = principalIndexes.get(principals);
  if (!index) {
    index = { users: new Map(), keyHolders: new Map() };
    for (const p of principals.principals) {
      if (p.kind === 'user' && !index.users.has(p.name)) index.users.set(p.name, p);
      for (const k of p.keys) index.keyHolders.set(k.digest, p);
    }
    principalIndexes.set(principals, index);
  }
  return index;
}

/** The store user CloudStack made for this account, if the store has one. */
export function userOfAccount(
  principals: StorePrincipals,
  provider: string,
  account: { accountUuid: string; accountName: string },
): StorePrincipal | undefined {
  const { users } = indexPrincipals(principals);
  for (const name of storeUserNames(provider, account)) {
    const user = users.get(name);
    if (user) return user;
  }
  return undefined;
}

/** The names CloudStack would give this account's store user, for messages. */
export function userNamesOf(provider: string, account: { accountUuid: string; accountName: string }): string {
  const [name, older] = storeUserNames(provider, account);
  return provider === 'MinIO' ? `${name} (or ${older})` : `uid ${name}`;
}

export type UserOwnership =
  | { kind: 'not-cloudstack' }
  | { kind: 'live'; account: AccountRecord }
  | { kind: 'removed'; account: AccountRecord }
  | { kind: 'unknown'; by: 'uuid' | 'name'; key: string };

/** One account, or all those of one key (a name reused after a removal): most keys have one. */
type OneOrMore = AccountRecord | AccountRecord[];

export interface AccountIndex {
  byUuid: ReadonlyMap<string, OneOrMore>;
  /** Built on the first look-up by name: only MinIO's older users (`acs-<name>`) are named so. */
  byName: () => ReadonlyMap<string, OneOrMore>;
}

const accountIndexes = new WeakMap<readonly AccountRecord[], AccountIndex>();

/** One account, or all those of one key (a name reused after a removal), added to a map of them. */
function addTo(map: Map<string, OneOrMore>, key: string, a: AccountRecord): void {
  const had = map.get(key);
  map.set(key, had === undefined ? a : Array.isArray(had) ? [...had, a] : [had, a]);
}

/** The accounts by uuid (lower case) and by name: indexed once, however many shards and rules ask. */
export function indexAccounts(accounts: readonly AccountRecord[]): AccountIndex {
  const known = accountIndexes.get(accounts);
  if (known) return known;
  // Ten thousand accounts: no list of one for each, and no lower-case copy of a uuid already lower case.
  const byUuid = new Map<string, OneOrMore>();
  for (const a of accounts) {
    const lower = a.uuid.toLowerCase();
    addTo(byUuid, lower === a.uuid ? a.uuid : lower, a);
  }
  // A Ceph store's users are all named by uuid: its ten thousand names are never indexed.
  let byName: Map<string, OneOrMore> | undefined;
  const index: AccountIndex = {
    byUuid,
    byName: () => {
      if (!byName) {
        byName = new Map();
        for (const a of accounts) addTo(byName, a.name, a);
      }
      return byName;
    },
  };
  accountIndexes.set(accounts, index);
  return index;
}

/**
 * Whose user this is by its name: a name of CloudStack's shape (a uuid on Ceph, `acs-…` on MinIO)
 * and the account it names, live or removed; `unknown` when no account of this CloudStack has it.
 */
export function ownershipOf(name: string, provider: string, index: AccountIndex): UserOwnership {
  let key: string;
  if (provider === 'MinIO') {
    if (!name.startsWith('acs-')) return { kind: 'not-cloudstack' };
    key = name.slice(4);
  } else {
    if (!UUID.test(name)) return { kind: 'not-cloudstack' };
    key = name;
  }
  const byUuid = UUID.test(key);
  const found = byUuid ? index.byUuid.get(key.toLowerCase()) : index.byName().get(key);
  const named = found === undefined ? [] : Array.isArray(found) ? found : [found];
  const live = named.find((a) => !a.removed);
  if (live) return { kind: 'live', account: live };
  const removed = named[0];
  if (removed) return { kind: 'removed', account: removed };
  return { kind: 'unknown', by: byUuid ? 'uuid' : 'name', key };
}

/** A key as reports show it: its last four characters only. */
export function keyHint(key: { last4: string }): string {
  return `…${key.last4}`;
}
