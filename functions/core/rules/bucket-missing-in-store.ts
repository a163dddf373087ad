import { recreateThenDelete } from '../remediation-steps.js';
import { bucketNameProblem } from '../bucket-name.js';
import { isActive, ownerText, storeRef } from '../model.js';
import type { DbBucket, RuleFinding } from '../model.js';
import {
  deleteThroughCloudStack,
  humanBytes,
  recountCommand,
  softDeleteSql,
  storeSideCommand,
} from '../playbooks.js';
import { defineRule, fullyListed, isPastGrace } from './rule.js';
import type { Grace } from './rule.js';

/** The DB buckets this rule may report: the scan confirms the absence of exactly these. */
function absenceCandidates(dbBuckets: DbBucket[], ctx: Grace): DbBucket[] {
  return dbBuckets.filter((b) => isActive(b) && b.state === 'Created' && isPastGrace(b.created, ctx));
}

// Only a complete listing plus a confirming 404 is evidence of absence: anything less is store-unverified.
export const bucketMissingInStore = defineRule({
  id: 'bucket-missing-in-store',
  defaultSeverity: 'high',
  summary:
    'An active bucket in state Created is absent from a fully listed store, and HeadBucket confirms 404.',
  when: 'an active bucket in state `Created`, older than the grace period, is absent from a store that was fully listed; `HeadBucket` confirms 404, and a second read shows the row still active',
  whatToDo:
    're-create an empty bucket of that name in the store, then delete it through CloudStack (`cmk delete bucket id=…`); if that fails, soft-delete the row and run `updateResourceCount`',
  scan: { confirmAbsent: absenceCandidates },
  remediation: { plan: recreateThenDelete },
  reads: "DB `bucket`; the store's full listing, then HeadBucket for each absence",
  needs: 'complete',
  coverage: fullyListed,
  evaluate(view, ctx) {
    const findings: RuleFinding[] = [];
    for (const bucket of absenceCandidates(view.dbBuckets, ctx)) {
      if (view.storeBucketNames.has(bucket.name)) continue;
      const check = view.scan.absenceChecks[bucket.name];
      if (check?.result !== 'absent') continue;
      const reread = view.recheckedRows.find((r) => r.id === bucket.id);
      if (!reread || !isActive(reread) || reread.state !== 'Created') continue; // deleted while we looked
      const impossible = bucketNameProblem(bucket.name);
      if (impossible) {
        // bucket.name is free text: a row can name a bucket no store can have (`team/archive`).
        findings.push({
          store: storeRef(view.store),
          bucket: bucket.name,
          dbBucket: bucket,
          message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is recorded in CloudStack under a name no store can have (${impossible}): it cannot exist in store ${view.store.name}.`,
          evidence: { listedAt: view.scan.finishedAt, nameProblem: impossible, dbCreated: bucket.created },
          remediation: {
            summary: 'No store can hold this bucket: soft-delete its CloudStack row.',
            steps: [
              `Confirm with the owner which bucket was meant (the row's name was entered by hand or by a script).`,
              `Soft-delete the row (never DELETE it): ${softDeleteSql(bucket)} then recount the owner's resources: ${recountCommand(bucket)}`,
              `Verify: the next audit no longer reports it.`,
            ],
          },
        });
        continue;
      }
      // The hourly usage task only updates buckets the store reports: a bucket gone from the store
      // keeps its last size in bucket_statistics, and the usage server bills it (FACTS, "Usage and billing").
      const billed = (bucket.billedBytes ?? 0) > 0 ? (bucket.billedBytes as number) : undefined;
      findings.push({
        store: storeRef(view.store),
        bucket: bucket.name,
        dbBucket: bucket,
        ...(billed ? { billedButGoneBytes: billed } : {}),
        message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is recorded in CloudStack but no longer exists in store ${view.store.name}.${billed ? ` CloudStack still bills ${humanBytes(billed)} for it every usage period.` : ''}`,
        evidence: {
          listedAt: view.scan.finishedAt,
          bucketsListed: view.scan.buckets.length,
          headBucket: check,
          dbCreated: bucket.created,
          ...(billed ? { billedBytes: billed } : {}),
        },
        remediation: {
          summary:
            'CloudStack cannot delete a bucket its store no longer has: re-create it empty in the store, then delete it through CloudStack.',
          steps: [
            `Confirm with the owner that the data is not expected back (a bucket recreated from backup would instead keep the row).`,
            `Re-create an empty bucket of the same name: ${storeSideCommand(view.store, 'create', bucket.name)}`,
            deleteThroughCloudStack(bucket),
            `If CloudStack still refuses, soft-delete the row instead (never DELETE it): ${softDeleteSql(bucket)} then recount the owner's resources: ${recountCommand(bucket)}`,
            `Verify: cmk list buckets id=${bucket.uuid ?? bucket.id} listall=true returns nothing, and the next audit no longer reports it.`,
          ],
        },
      });
    }
    return findings;
  },
});
