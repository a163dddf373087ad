// One shape for every attribute finding: CloudStack's value as `expected`, the store's as `actual`.
import { storeRef } from '../model.js';
import type { DbBucket, Remediation, RuleFinding } from '../model.js';
import type { StoreView } from './rule.js';

export function attributeFinding(
  view: StoreView,
  bucket: DbBucket,
  parts: {
    attribute: string;
    expected: unknown;
    actual: unknown;
    message: string;
    evidence?: Record<string, unknown>;
    remediation: Remediation;
    /** The data billed wrongly (usage drift). */
    bytes?: number;
  },
): RuleFinding {
  return {
    store: storeRef(view.store),
    bucket: bucket.name,
    dbBucket: bucket,
    ...(parts.bytes !== undefined ? { bytes: parts.bytes } : {}),
    attribute: parts.attribute,
    expected: parts.expected,
    actual: parts.actual,
    message: parts.message,
    evidence: {
      readAt: view.scan.finishedAt,
      verifiedAt: verifiedAt(view, bucket.name, parts.attribute),
      ...parts.evidence,
    },
    remediation: parts.remediation,
  };
}

/**
 * When the store's value was read: this scan, or (scan.incremental) the last verified read it kept
 * because the bucket's listing identity had not moved since.
 */
function verifiedAt(view: StoreView, bucket: string, attribute: string): string {
  const kept = view.scan.keptReads?.[bucket];
  return kept && (kept.attributes as string[]).includes(attribute) ? kept.verifiedAt : view.scan.finishedAt;
}
