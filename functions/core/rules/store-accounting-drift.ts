import { storeRef } from '../model.js';
import type { RuleFinding, StoreRecord } from '../model.js';
import { GIB, humanBytes } from '../playbooks.js';
import { dbOnly, defineRule } from './rule.js';

import type { StoreView } from './rule.js';
import { TOLERANCE_OPTIONS } from './options.js';
import { beyond, toleranceOf } from './tolerance.js';

// The store's own totals in object_store against what its active buckets add up to. Both sides are
// CloudStack's numbers: this is CloudStack's bookkeeping, read from its database only.
export const storeAccountingDrift = defineRule({
  id: 'store-accounting-drift',
  defaultSeverity: 'low',
  summary:
    "object_store's used size (and, from 4.21, allocated size) disagrees with what the store's active buckets add up to.",
  when: "`object_store.used_bytes`/`used_size` against the sum of its active buckets' sizes (same tolerances); on 4.21+ `allocated_size` against SUM(quota) × 1 GiB, naming the upgrade's GB back-fill when the numbers fit it",
  whatToDo: 'set the column from the buckets (the SQL is in the finding)',
  reads: 'DB `object_store`, `bucket`',
  needs: 'db',
  storeLevel: true,
  wholeStore: true,
  options: TOLERANCE_OPTIONS,
  coverage: dbOnly,
  evaluate(view, ctx) {
    const tolerance = toleranceOf(ctx);
    const { activeRows, activeSize: sizes, activeQuotaGb: quotaGb } = view.totals;
    const findings: RuleFinding[] = [];
    const { usedBytes, allocatedSize } = view.store;
    if (usedBytes !== null && beyond(usedBytes, sizes, tolerance)) {
      findings.push(usedFinding(view, usedBytes, sizes, activeRows));
    }
    const expected = quotaGb * GIB;
    if (allocatedSize !== null && allocatedSize !== expected) {
      findings.push(allocatedFinding(view.store, allocatedSize, quotaGb, activeRows));
    }
    return findings;
  },
});

function usedFinding(view: StoreView, used: number, sizes: number, active: number): RuleFinding {
  const store = view.store;
  return {
    store: storeRef(store),
    bucket: null,
    dbBucket: null,
    attribute: 'usedSize',
    expected: sizes,
    actual: used,
    message: `Store ${store.name} records ${humanBytes(used)} used, but its ${active} active bucket(s) add up to ${humanBytes(sizes)} in CloudStack.`,
    evidence: { usedBytes: used, sumOfBucketSizes: sizes, activeBuckets: active },
    remediation: {
      summary: "CloudStack's store total is stale or wrong; it feeds capacity planning, not billing.",
      steps: [
        "Check the management server's log for errors of the bucket usage task, which refreshes these numbers.",
        `If it stays wrong, set it from the buckets: \`UPDATE object_store SET used_size = (SELECT COALESCE(SUM(size),0) FROM bucket WHERE CAST(object_store_id AS UNSIGNED) = ${store.id} AND removed IS NULL) WHERE id = ${store.id};\` (used_bytes before 4.21)`,
        `Verify: the next audit no longer reports store ${store.name}.`,
      ],
    },
  };
}

function allocatedFinding(
  store: StoreRecord,
  allocated: number,
  quotaGb: number,
  buckets: number,
): RuleFinding {
  const expected = quotaGb * GIB;
  // The 4.21 upgrade back-filled the column with SUM(quota) in GB while the server adds bytes:
  // with k GB back-filled, the column is exactly k × (GiB - 1) short.
  const shortBy = expected - allocated;
  const backfilledGb = shortBy > 0 && shortBy % (GIB - 1) === 0 ? shortBy / (GIB - 1) : 0;
  const quirk = backfilledGb > 0 && backfilledGb <= quotaGb;
  const cause = quirk
    ? `the 4.21 upgrade back-filled allocated_size in GB (SUM(quota)) while the server adds bytes: ${backfilledGb} GB of quota are counted as ${backfilledGb} bytes`
    : undefined;
  return {
    store: storeRef(store),
    bucket: null,
    dbBucket: null,
    attribute: 'allocatedSize',
    expected,
    actual: allocated,
    message: `Store ${store.name} records ${allocated} bytes allocated, but the quotas of its ${buckets} active bucket(s) add up to ${quotaGb} GB (${expected} bytes)${cause ? `: ${cause}` : ''}.`,
    evidence: {
      allocatedSize: allocated,
      sumOfQuotaGb: quotaGb,
      expectedBytes: expected,
      ...(cause ? { knownCause: cause } : {}),
    },
    remediation: {
      summary:
        'The store allocation CloudStack checks new buckets against is wrong, so it may over- or under-commit the store.',
      steps: [
        `Set it from the buckets' quotas: \`UPDATE object_store SET allocated_size = (SELECT COALESCE(SUM(quota),0) * 1073741824 FROM bucket WHERE CAST(object_store_id AS UNSIGNED) = ${store.id} AND removed IS NULL) WHERE id = ${store.id};\``,
        `Verify: the next audit no longer reports store ${store.name}.`,
      ],
    },
  };
}
