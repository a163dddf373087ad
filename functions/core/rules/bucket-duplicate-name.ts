import { isActive, ownerText, storeRef } from '../model.js';
import type { DbBucket, RuleFinding } from '../model.js';
import { recountStep } from '../playbooks.js';
import { dbOnly, defineRule } from './rule.js';

// CloudStack has no unique key on bucket.name, so a retried create can leave two live rows for one bucket.
export const bucketDuplicateName = defineRule({
  id: 'bucket-duplicate-name',
  defaultSeverity: 'medium',
  summary: 'Two or more active CloudStack rows share one bucket name on one store (one finding per name).',
  when: 'two or more active rows share one name on one store (one finding per name)',
  whatToDo:
    'keep the oldest row and soft-delete the others; never `deleteBucket`, which would delete the one bucket they share',
  reads: 'DB `bucket`',
  needs: 'db',
  coverage: dbOnly,
  evaluate(view) {
    const findings: RuleFinding[] = [];
    const byName = new Map<string, DbBucket[]>();
    for (const b of view.dbBuckets.filter(isActive)) byName.set(b.name, [...(byName.get(b.name) ?? []), b]);
    for (const [name, rows] of byName) {
      if (rows.length < 2) continue;
      const sorted = [...rows].sort((a, b) => a.id - b.id);
      const keep = sorted[0] as DbBucket;
      const extras = sorted.slice(1);
      findings.push({
        store: storeRef(view.store),
        bucket: name,
        dbBucket: keep,
        message: `Bucket ${name} has ${rows.length} active rows in CloudStack on store ${view.store.name} (ids ${sorted.map((r) => r.id).join(', ')}).`,
        evidence: {
          rows: sorted.map((r) => ({
            id: r.id,
            uuid: r.uuid,
            state: r.state,
            created: r.created,
            owner: r.owner?.accountUuid ?? null,
          })),
        },
        remediation: {
          summary:
            'One store bucket is counted more than once. Keep the oldest row that matches the store; soft-delete the others.',
          steps: [
            `Decide which row is real: the oldest (id ${keep.id}, ${ownerText(keep.owner)}) unless the store's owner says otherwise.`,
            `Soft-delete the others (never DELETE them, and never deleteBucket, which would delete the one store bucket they share): \`UPDATE bucket SET removed = UTC_TIMESTAMP() WHERE id IN (${extras.map((r) => r.id).join(', ')}) AND removed IS NULL;\``,
            ...[...new Set(extras.map(recountStep))],
            `Verify: \`SELECT COUNT(*) FROM bucket WHERE id IN (${sorted.map((r) => r.id).join(', ')}) AND removed IS NULL;\` returns 1, and the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});
