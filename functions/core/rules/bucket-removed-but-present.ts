import { isActive, ownerText, storeRef } from '../model.js';
import type { RuleFinding } from '../model.js';
import { holding, storeSideCommand } from '../playbooks.js';
import { defineRule, rowNow, seenInStore } from './rule.js';

// Presence is positive evidence, so a store that was listed at all can show it.
export const bucketRemovedButPresent = defineRule({
  id: 'bucket-removed-but-present',
  defaultSeverity: 'medium',
  summary: 'Every CloudStack row of the bucket on this store is soft-deleted, yet the store still has it.',
  when: 'every CloudStack row of the bucket on that store is soft-deleted, yet the store still has it: data that is stored but not billed',
  whatToDo: 'confirm with the former owner, then delete it in the store',
  billing: 'unbilled',
  tracksPresence: true,
  reads: "DB `bucket`; the store's listing",
  needs: 'listed',
  coverage: seenInStore,
  evaluate(view) {
    const findings: RuleFinding[] = [];
    for (const seen of view.scan.buckets) {
      const rows = view.dbByName.get(seen.name);
      if (!rows || rows.some(isActive) || rowNow(view, seen.name, true)) continue;
      const latest = rows.reduce((a, b) => ((a.removed ?? '') >= (b.removed ?? '') ? a : b));
      findings.push({
        store: storeRef(view.store),
        bucket: seen.name,
        dbBucket: latest,
        ...(seen.bytes !== undefined ? { bytes: seen.bytes } : {}),
        message: `Bucket ${seen.name} of ${ownerText(latest.owner)} was deleted in CloudStack on ${latest.removed} but still exists in store ${view.store.name}${holding(seen.bytes)}: nobody is billed for it.`,
        evidence: {
          listedAt: view.scan.finishedAt,
          dbRemoved: latest.removed,
          dbRows: rows.length,
          storeOwner: seen.owner ?? null,
        },
        remediation: {
          summary:
            'The store kept a bucket CloudStack deleted: its data is stored but no longer billed or limited.',
          steps: [
            `Inspect what it holds: ${storeSideCommand(view.store, 'inspect', seen.name)}`,
            `Confirm with ${ownerText(latest.owner)} that the data can go.`,
            `Delete it in the store: ${storeSideCommand(view.store, 'delete', seen.name)}`,
            `Verify: the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});
