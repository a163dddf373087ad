import { isActive, ownerText, storeRef } from '../model.js';
import type { DbBucket, RuleFinding, UsageSinceRemoval } from '../model.js';
import { humanBytes } from '../playbooks.js';
import { defineRule } from './rule.js';

const GHOST_BILLING =
  'apache/cloudstack#13057: the usage server bills every bucket_statistics row whose size is above 0, whether or not its bucket still exists';

// CloudStack's own records only: the statistics row outlives the bucket (FACTS, "Usage and billing").
export const bucketBilledAfterRemoval = defineRule({
  id: 'bucket-billed-after-removal',
  defaultSeverity: 'medium',
  summary:
    'Every CloudStack row of the bucket on this store is removed, yet its bucket_statistics size is above 0: billed every usage period for a bucket that is gone.',
  when: 'every row of the bucket on that store is removed, and its `bucket_statistics.size` is above 0: the usage server keeps billing it (apache/cloudstack#13057)',
  whatToDo:
    'reset the statistics size to 0 (SQL in the finding) while the usage server is not running its job; credit what was billed since the removal',
  reads: 'DB `bucket`, `bucket_statistics`; with config `usageDb`, the usage database `cloud_usage`',
  needs: 'db',
  coverage: (view) =>
    view.billingUnreadable ? { status: 'not_applicable', why: view.billingUnreadable } : 'verified',
  evaluate(view) {
    if (view.billingUnreadable) return [];
    const findings: RuleFinding[] = [];
    for (const [name, rows] of view.dbByName) {
      if (rows.some(isActive)) continue;
      const billed = rows.filter((r) => (r.billedBytes ?? 0) > 0);
      if (!billed.length) continue;
      const bytes = billed.reduce((n, r) => n + (r.billedBytes ?? 0), 0);
      const latest = billed.reduce((a, b) => ((a.removed ?? '') >= (b.removed ?? '') ? a : b));
      const ids = billed.map((r) => r.id).join(', ');
      const recorded = usageSince(billed);
      const already = recorded
        ? ` The usage server has already recorded ${recorded.records} usage period(s) for it since then (${recorded.from} to ${recorded.to}).`
        : '';
      findings.push({
        store: storeRef(view.store),
        bucket: name,
        dbBucket: latest,
        billedButGoneBytes: bytes,
        message: `Bucket ${name} of ${ownerText(latest.owner)} was deleted in CloudStack on ${latest.removed}, yet the usage server still bills ${humanBytes(bytes)} for it every period (${GHOST_BILLING}).${already}`,
        evidence: {
          billedBytesPerPeriod: bytes,
          rows: billed.map((r) => ({
            id: r.id,
            uuid: r.uuid,
            removed: r.removed,
            billedBytes: r.billedBytes,
          })),
          knownCause: GHOST_BILLING,
          ...(view.usageDb
            ? {
                usageSinceRemoval:
                  'unreadable' in view.usageDb
                    ? { unreadable: view.usageDb.unreadable }
                    : (recorded ?? { records: 0, bytes: 0 }),
              }
            : {}),
        },
        remediation: {
          summary:
            'CloudStack deleted the bucket but not its usage statistics: its owner is billed for it every usage period, for ever.',
          steps: [
            'Make sure the usage server is not in the middle of its job (its log, or stop cloudstack-usage for the minute this takes).',
            `Reset the billed size: \`UPDATE bucket_statistics SET size = 0 WHERE bucket_id IN (${ids});\``,
            `Credit ${ownerText(latest.owner)} for the usage recorded since ${latest.removed}${recorded ? ` (${recorded.records} period(s), ${humanBytes(recorded.bytes)} billed in all)` : ''}: \`SELECT start_date, end_date, raw_usage FROM cloud_usage.cloud_usage WHERE usage_type = 29 AND usage_id IN (${ids}) AND end_date > '${(latest.removed ?? '').replace('T', ' ').replace(/\.\d+Z$|Z$/, '')}';\``,
            `Verify: \`SELECT bucket_id, size FROM bucket_statistics WHERE bucket_id IN (${ids});\` shows 0, and the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});

/** The usage recorded since removal over every billed row of the bucket, where the usage database told. */
function usageSince(rows: DbBucket[]): UsageSinceRemoval | undefined {
  const recorded = rows.flatMap((r) => (r.usageSinceRemoval ? [r.usageSinceRemoval] : []));
  if (!recorded.length) return undefined;
  return {
    records: recorded.reduce((n, u) => n + u.records, 0),
    bytes: recorded.reduce((n, u) => n + u.bytes, 0),
    from: recorded.map((u) => u.from).sort()[0] as string,
    to: recorded
      .map((u) => u.to)
      .sort()
      .at(-1) as string,
  };
}
