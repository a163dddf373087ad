// Suppressions carry a reason, an owner and an expiry. They match exactly on rule, store (uuid or
// name) and bucket; store and bucket are globs only where the entry says `match: glob`, so that an
// entry never over-matches by accident. A finding without a bucket is matched by bucket `-`.
import picomatch from 'picomatch';
import type { AuditConfig } from './config.js';
import type { Ledger, LedgerSuppression } from './ledger.js';
import type { RuleId, StoreRef } from './model.js';

export type Suppression = AuditConfig['suppressions'][number];

export interface SuppressionMatch {
  reason: string;
  owner: string;
  expires: string;
}

export interface SuppressionVerdict {
  active?: SuppressionMatch;
  expired?: SuppressionMatch;
}

export function isExpired(entry: Suppression, now: Date): boolean {
  return Date.parse(entry.expires) <= now.getTime();
}

function matcher(entry: Suppression): (store: StoreRef, bucket: string) => boolean {
  if (entry.match === 'glob') {
    const storeGlob = picomatch(entry.store, { dot: true });
    const bucketGlob = picomatch(entry.bucket, { dot: true });
    return (store, bucket) => (storeGlob(store.uuid) || storeGlob(store.name)) && bucketGlob(bucket);
  }
  return (store, bucket) =>
    (entry.store === store.uuid || entry.store === store.name) && entry.bucket === bucket;
}

/** Compiles the entries once; the returned function tells whether a finding is suppressed, or was until it expired. */
export function suppressionsFor(entries: Suppression[], now: Date) {
  const compiled = entries.map((entry) => ({
    entry,
    matches: matcher(entry),
    expired: isExpired(entry, now),
  }));
  return (rule: RuleId, store: StoreRef, bucket: string | null): SuppressionVerdict => {
    const hits = compiled.filter((c) => c.entry.rule === rule && c.matches(store, bucket ?? '-'));
    const summary = (c: (typeof compiled)[number]) => ({
      reason: c.entry.reason,
      owner: c.entry.owner,
      expires: c.entry.expires,
    });
    const active = hits.find((c) => !c.expired);
    if (active) return { active: summary(active) };
    const expired = hits.find((c) => c.expired);
    return expired ? { expired: summary(expired) } : {};
  };
}

/** "Not drift" holds until a person removes it: as a config entry, an expiry no run will reach. */
export const UNTIL_REMOVED = '9999-12-31T23:59:59.000Z';

/** A click's suppression as the config's: exact on rule, store uuid and bucket (`-` for none). */
export function asConfigSuppression(s: LedgerSuppression): Suppression {
  return {
    rule: s.rule,
    store: s.store.uuid,
    bucket: s.bucket ?? '-',
    reason: s.reason,
    owner: s.owner,
    expires: s.expires ?? UNTIL_REMOVED,
    match: 'exact',
  };
}

/** The config with the ledger's suppressions beside its own. */
export function withLedgerSuppressions(config: AuditConfig, ledger: Ledger | null): AuditConfig {
  const clicked = ledger?.suppressions ?? [];
  if (!clicked.length) return config;
  return { ...config, suppressions: [...config.suppressions, ...clicked.map(asConfigSuppression)] };
}
