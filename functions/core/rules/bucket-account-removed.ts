import { isActive, ownerText, storeRef } from '../model.js';
import type { RuleFinding } from '../model.js';
import { holding, softDeleteSteps, storeSideCommand } from '../playbooks.js';
import { dbOnly, defineRule } from './rule.js';
import type { StoreView } from './rule.js';

export const bucketAccountRemoved = defineRule({
  id: 'bucket-account-removed',
  defaultSeverity: 'high',
  summary:
    'An active bucket whose owning account has been removed: data nobody is billed for or can reach through CloudStack.',
  when: 'an active bucket whose owning account is removed',
  whatToDo: 'hand over or back up its data, delete it in the store, soft-delete the row',
  billing: 'unbilled',
  reads: 'DB `bucket`, `account`',
  needs: 'db',
  coverage: dbOnly,
  evaluate(view) {
    const findings: RuleFinding[] = [];
    for (const bucket of view.dbBuckets) {
      if (!isActive(bucket) || !bucket.accountRemoved) continue;
      const bytes = storedBytes(view, bucket.name);
      findings.push({
        store: storeRef(view.store),
        bucket: bucket.name,
        dbBucket: bucket,
        ...(bytes !== undefined ? { bytes } : {}),
        message: `Bucket ${bucket.name} is still active but its owner, ${ownerText(bucket.owner)}, has been removed${holding(bytes)}: nobody who still exists is billed for it.`,
        evidence: {
          dbState: bucket.state,
          seenInStore: view.scan.status === 'skipped' ? null : view.storeBucketNames.has(bucket.name),
        },
        remediation: {
          summary:
            'Account removal left the bucket behind. Keep its data if someone needs it, then remove it in the store and in CloudStack.',
          steps: [
            `Inspect what it holds: ${storeSideCommand(view.store, 'inspect', bucket.name)}`,
            `Hand the data over or back it up if the former owner's organisation needs it.`,
            `Delete it in the store: ${storeSideCommand(view.store, 'delete', bucket.name)}`,
            ...softDeleteSteps(bucket),
            `Verify: the store answers 404 for ${bucket.name} and the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});

/** What the store said the bucket holds: from its listing, or the usage read for it; unknown otherwise. */
function storedBytes(view: StoreView, name: string): number | undefined {
  if (view.scan.status === 'skipped') return undefined;
  const listed = view.storeByName.get(name)?.bytes;
  if (listed !== undefined) return listed;
  const usage = view.scan.attributes?.[name]?.usage;
  return usage && 'value' in usage ? usage.value.bytes : undefined;
}
