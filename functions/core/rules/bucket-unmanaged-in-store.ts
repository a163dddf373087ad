import { storeRef } from '../model.js';
import type { RuleFinding } from '../model.js';
import { holding, storeSideCommand } from '../playbooks.js';
import { defineRule, fullyListed, rowNow } from './rule.js';

export const bucketUnmanagedInStore = defineRule({
  id: 'bucket-unmanaged-in-store',
  defaultSeverity: 'medium',
  summary: 'A bucket in a fully listed store has no CloudStack row at all on that store.',
  when: 'a store bucket with no CloudStack row at all on that store, before and after the scan',
  whatToDo: 'find who made it; delete it in the store, or suppress the finding with a reason',
  billing: 'unbilled',
  tracksPresence: true,
  reads: "DB `bucket`; the store's full listing",
  needs: 'complete',
  coverage: fullyListed,
  evaluate(view) {
    const findings: RuleFinding[] = [];
    for (const seen of view.scan.buckets) {
      // CloudStack writes the row before it creates the bucket: a row that appeared since the snapshot is a create in flight.
      if (view.dbByName.has(seen.name) || rowNow(view, seen.name, false)) continue;
      findings.push({
        store: storeRef(view.store),
        bucket: seen.name,
        dbBucket: null,
        ...(seen.bytes !== undefined ? { bytes: seen.bytes } : {}),
        message: `Bucket ${seen.name} exists in store ${view.store.name}${seen.owner ? ` (owner ${seen.owner})` : ''}${holding(seen.bytes)}, but CloudStack has no record of it: nobody is billed for it.`,
        evidence: {
          listedAt: view.scan.finishedAt,
          storeOwner: seen.owner ?? null,
          storeCreated: seen.createdAt ?? null,
        },
        remediation: {
          summary:
            'Find out who made it outside CloudStack; then delete it in the store or leave it, knowing CloudStack neither bills nor limits it.',
          steps: [
            `Inspect it: ${storeSideCommand(view.store, 'inspect', seen.name)}`,
            `Ask its owner${seen.owner ? ` (store user ${seen.owner})` : ''} whether it is still needed; CloudStack cannot adopt an existing bucket.`,
            `If not needed, after a backup if in doubt: ${storeSideCommand(view.store, 'delete', seen.name)}`,
            `If it must stay, suppress this finding with a reason, an owner and an expiry.`,
            `Verify: the next audit no longer reports it, or reports it as suppressed.`,
          ],
        },
      });
    }
    return findings;
  },
});
