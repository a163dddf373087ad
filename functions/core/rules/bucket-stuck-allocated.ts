import { ownerText, storeRef } from '../model.js';
import type { RuleFinding } from '../model.js';
import { softDeleteSteps, storeSideCommand } from '../playbooks.js';
import { dbOnly, defineRule, isPastGrace } from './rule.js';

export const bucketStuckAllocated = defineRule({
  id: 'bucket-stuck-allocated',
  defaultSeverity: 'low',
  summary: 'A bucket row left in state Allocated (a create that crashed) longer than the grace period.',
  when: "`state='Allocated'`, not removed, older than the grace period (a create that crashed)",
  whatToDo:
    'delete the half-made bucket in the store if it exists, then soft-delete the row and run `updateResourceCount`',
  reads: 'DB `bucket`',
  needs: 'db',
  coverage: dbOnly,
  evaluate(view, ctx) {
    const findings: RuleFinding[] = [];
    for (const bucket of view.dbBuckets) {
      if (bucket.state !== 'Allocated' || bucket.removed !== null || !isPastGrace(bucket.created, ctx))
        continue;
      const inStore = view.scan.status === 'skipped' ? null : view.storeBucketNames.has(bucket.name);
      findings.push({
        store: storeRef(view.store),
        bucket: bucket.name,
        dbBucket: bucket,
        message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} has been stuck in state Allocated since ${bucket.created}.`,
        evidence: { dbCreated: bucket.created, seenInStore: inStore, storeStatus: view.scan.status },
        remediation: {
          summary:
            'The create never finished. Remove the half-made row; remove the bucket in the store too if it was made.',
          steps: [
            `Check whether the store has it: ${storeSideCommand(view.store, 'inspect', bucket.name)}`,
            `If the store has it and it is empty, delete it there: ${storeSideCommand(view.store, 'delete', bucket.name)}`,
            ...softDeleteSteps(bucket),
            `Ask the owner to create the bucket again through CloudStack if it is still wanted.`,
            `Verify: \`SELECT state, removed FROM bucket WHERE id = ${bucket.id};\` shows removed set, and the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});
