// A store's totals for the rules that judge it whole (rule.ts StoreTotals): taken from one view (a
// partition of the store's names, or all of them) and added up over the partitions. Bounded
// whatever the store's size: counts, and a few names per store user.
import type { StoreTotals, StoreView } from './rules/rule.js';
import { isActive } from './model.js';
import { indexAccounts, ownershipOf } from './rules/store-users.js';

/** Names kept per store user: enough for a message and a command, never a million. */
export const HOLDING_EXAMPLES = 20;

export function emptyTotals(): StoreTotals {
  return { activeRows: 0, activeSize: 0, activeQuotaGb: 0, holdings: {} };
}

/** The totals of what one view holds. */
export function totalsOf(view: Omit<StoreView, 'totals'>): StoreTotals {
  const totals = emptyTotals();
  for (const b of view.dbBuckets) {
    if (!isActive(b)) continue;
    totals.activeRows += 1;
    totals.activeSize += b.size ?? 0;
    totals.activeQuotaGb += b.quota ?? 0;
  }
  for (const [user, names] of holdingsOf(view)) {
    const sorted = [...names].sort();
    totals.holdings[user] = { count: sorted.length, examples: sorted.slice(0, HOLDING_EXAMPLES) };
  }
  return totals;
}

/** Two partitions' totals as one: counts added, the first names (by name) kept. */
export function addTotals(into: StoreTotals, more: StoreTotals): StoreTotals {
  into.activeRows += more.activeRows;
  into.activeSize += more.activeSize;
  into.activeQuotaGb += more.activeQuotaGb;
  for (const [user, held] of Object.entries(more.holdings)) {
    const known = into.holdings[user];
    into.holdings[user] = known
      ? {
          count: known.count + held.count,
          examples: [...known.examples, ...held.examples].sort().slice(0, HOLDING_EXAMPLES),
        }
      : held;
  }
  return into;
}

/**
 * Each store user's buckets in this view: the owner the listing names (Ceph), or for MinIO, whose
 * buckets are whoever's policies grant them (its users own nothing), those the listing shows.
 */
function holdingsOf(view: Omit<StoreView, 'totals'>): Map<string, string[]> {
  const held = new Map<string, string[]>();
  const add = (user: string, bucket: string) => {
    const list = held.get(user);
    if (list) list.push(bucket);
    else held.set(user, [bucket]);
  };
  // Only users whose account CloudStack no longer has (or never had) can be orphaned: the buckets
  // of every live account's user are not kept, ten thousand users of a large store included.
  const index = view.accounts ? indexAccounts(view.accounts) : undefined;
  const orphanable = (name: string) => {
    if (!index) return true;
    const kind = ownershipOf(name, view.store.provider, index).kind;
    return kind === 'removed' || kind === 'unknown';
  };
  if (view.store.provider !== 'MinIO') {
    for (const b of view.scan.buckets) if (b.owner !== undefined && orphanable(b.owner)) add(b.owner, b.name);
    return held;
  }
  const accounts = view.scan.accounts;
  const principals = view.scan.principals;
  if (!accounts || 'error' in accounts || !principals || 'error' in principals) return held;
  for (const user of principals.value.principals) {
    if (!orphanable(user.name)) continue;
    const granted = new Set((user.policies ?? []).flatMap((p) => accounts.value.policies[p] ?? []));
    for (const name of granted) if (view.storeBucketNames.has(name)) add(user.name, name);
  }
  return held;
}
