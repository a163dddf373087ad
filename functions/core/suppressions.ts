import type { AuditConfig } from './config.js';
import type { RuleId, StoreRef } from './model.js';

type Suppression = AuditConfig['suppressions'][number];

/** Exact match on rule, store (uuid or name) and bucket; an expired entry no longer applies. */
export function findSuppression(
  suppressions: Suppression[],
  rule: RuleId,
  store: StoreRef,
  bucket: string | null,
  now: Date,
): { reason: string; owner: string; expires: string } | undefined {
  const hit = suppressions.find(
    (s) =>
      s.rule === rule &&
      (s.store === store.uuid || s.store === store.name) &&
      s.bucket === (bucket ?? '') &&
      Date.parse(s.expires) > now.getTime(),
  );
  return hit && { reason: hit.reason, owner: hit.owner, expires: hit.expires };
}
