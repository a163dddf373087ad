import { ownerText } from '../model.js';
import { updateBucketWith } from '../remediation-steps.js';
import { updateBucketCommand } from '../playbooks.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';
import { cmd } from '../shell.js';
import type { RuleContext, StoreView } from './rule.js';
import { versioningForced, versioningOffButEnabled } from '../store-forced.js';
import type { CheckVerdict } from '../model.js';

const versioningRead = attributeCoverage('versioning');

/** DB-off buckets the store has Enabled whose object lock could not be read: forced or drift, nobody can tell. */
function undecided(view: StoreView, ctx: RuleContext) {
  return comparable(view, 'versioning', ctx).filter(
    ({ bucket, value }) =>
      versioningOffButEnabled(bucket, value) &&
      versioningForced(view.scan.attributes?.[bucket.name]) === 'unknown',
  );
}

function versioningCoverage(view: StoreView, ctx: RuleContext): CheckVerdict {
  const read = versioningRead(view, ctx);
  if (read.status !== 'verified') return read;
  const open = undecided(view, ctx);
  if (!open.length) return read;
  return {
    status: 'unverified',
    why: `${open.length} bucket(s) have versioning Enabled against CloudStack's off, but their object lock (which would force it) could not be read (${open[0]?.bucket.name})`,
  };
}

// CloudStack turns versioning off by suspending it, so false matches both Suspended and never-enabled;
// and object lock forces versioning Enabled, so with the store's lock on, false matches Enabled too.
export const bucketVersioningMismatch = defineRule({
  id: 'bucket-versioning-mismatch',
  defaultSeverity: 'medium',
  scan: { attributes: ['versioning', 'objectLock'], inspect: inspectionTargets },
  summary:
    "CloudStack's versioning flag disagrees with the store: true needs Enabled; false matches Suspended or never enabled, and Enabled where the store's object lock forces it.",
  when: "DB `versioning` true but the store's versioning is not `Enabled`; or DB false and the store's is `Enabled` (false matches `Suspended` and never enabled)",
  whatToDo: "`cmk update bucket id=… versioning=…` re-applies CloudStack's value, or record the store's",
  remediation: { plan: updateBucketWith('versioning') },
  reads: 'DB `bucket.versioning`; store: versioning (S3, RGW bucket instance)',
  needs: 'verified',
  coverage: versioningCoverage,
  evaluate(view, ctx) {
    return comparable(view, 'versioning', ctx).flatMap(({ bucket, value }) => {
      const expected = bucket.versioning === true;
      const actual = value === 'Enabled';
      if (expected === actual) return [];
      // Object lock keeps versioning Enabled: the store's own state, not drift (store-forced.ts).
      if (
        versioningOffButEnabled(bucket, value) &&
        versioningForced(view.scan.attributes?.[bucket.name]) !== 'free'
      )
        return [];
      const status = expected ? 'Enabled' : 'Suspended';
      return [
        attributeFinding(view, bucket, {
          attribute: 'versioning',
          expected,
          actual,
          message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} has versioning ${expected ? 'on' : 'off'} in CloudStack but ${value === 'Off' ? 'never enabled' : value} in store ${view.store.name}.`,
          evidence: { storeStatus: value },
          remediation: {
            summary: `Re-apply CloudStack's setting (versioning=${expected}) so the store matches what the owner sees and pays for.`,
            steps: [
              `Ask the owner whether the change in the store was intended; if so, record it in CloudStack instead: ${updateBucketCommand(bucket, 'versioning', actual)}`,
              `Otherwise re-apply CloudStack's value: ${updateBucketCommand(bucket, 'versioning', expected)}`,
              `Or in the store: ${cmd`aws s3api put-bucket-versioning --bucket=${bucket.name} --versioning-configuration=${`Status=${status}`} --endpoint-url=${view.store.endpoint}`}`,
              `Verify: ${cmd`aws s3api get-bucket-versioning --bucket=${bucket.name}`} shows ${expected ? 'Enabled' : 'Suspended (or nothing)'}, and the next audit no longer reports it.`,
            ],
          },
        }),
      ];
    });
  },
});
