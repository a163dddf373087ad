import { ownerText } from '../model.js';
import { humanBytes } from '../playbooks.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';

import { TOLERANCE_OPTIONS } from './options.js';
import { beyond, toleranceOf } from './tolerance.js';

const CEPH_KIB_BUG =
  "apache/cloudstack#13224: CloudStack stores Ceph's size_kb as if it were bytes, so it records (and bills) 1/1024 of the real usage";

export const bucketUsageDrift = defineRule({
  id: 'bucket-usage-drift',
  defaultSeverity: 'low',
  scan: { attributes: ['usage'], inspect: inspectionTargets },
  summary:
    "CloudStack's recorded size differs from the store's usage beyond a tolerance (default 10% and 100 MiB), units normalised.",
  when: "DB `size`, and the billed `bucket_statistics.size`, against the store's usage, beyond both tolerances (default 10% and 100 MiB); it says which is wrong. On Ceph a size that equals the store's KiB count is named as apache/cloudstack#13224 (billed 1/1024)",
  whatToDo: "check the management server's hourly usage task; track the upstream bug",
  billing: 'misbilled',
  reads: 'DB `bucket.size`, `bucket_statistics`; store: usage (RGW admin listing, MinIO data usage)',
  needs: 'verified',
  options: TOLERANCE_OPTIONS,
  coverage: attributeCoverage('usage'),
  evaluate(view, ctx) {
    const tolerance = toleranceOf(ctx);
    return comparable(view, 'usage', ctx).flatMap(({ bucket, value }) => {
      // Two figures of CloudStack's: bucket.size (what it shows) and bucket_statistics.size (what
      // the usage server bills, FACTS "Usage and billing"); either may be the wrong one.
      const billed = view.billingUnreadable ? null : (bucket.billedBytes ?? null);
      const sizeWrong = bucket.size !== null && beyond(bucket.size, value.bytes, tolerance);
      const billedWrong = billed !== null && beyond(billed, value.bytes, tolerance);
      if (!sizeWrong && !billedWrong) return [];
      const recorded = bucket.size ?? billed ?? 0;
      // The recorded number is the KiB count, not the byte count: the known unit bug, not lag.
      const kibQuirk =
        value.kib !== undefined &&
        sizeWrong &&
        bucket.size !== null &&
        !beyond(bucket.size, value.kib, tolerance);
      const which =
        billed === null
          ? ''
          : sizeWrong && billedWrong
            ? ` and bills ${humanBytes(billed)} (bucket_statistics)`
            : sizeWrong
              ? `; the usage server bills the right figure (${humanBytes(billed)})`
              : '';
      const records = kibQuirk
        ? `CloudStack records ${bucket.size} bytes, its size in KiB (${CEPH_KIB_BUG})`
        : sizeWrong
          ? `CloudStack records ${humanBytes(recorded)}`
          : `CloudStack's size is right but the usage server bills ${humanBytes(billed ?? 0)} (bucket_statistics)`;
      return [
        attributeFinding(view, bucket, {
          attribute: 'usage',
          expected: bucket.size,
          actual: value.bytes,
          // What is billed wrongly: against the billed figure where it is known.
          bytes: Math.abs(value.bytes - (billed ?? recorded)),
          message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} holds ${humanBytes(value.bytes)} in store ${view.store.name}, but ${records}${which}.`,
          evidence: {
            dbSizeBytes: bucket.size,
            dbBytes: bucket.size,
            ...(billed !== null ? { billedBytes: billed } : {}),
            wrong: sizeWrong && billedWrong ? 'both' : sizeWrong ? 'size' : 'billed',
            storeBytes: value.bytes,
            ...(value.kib !== undefined ? { storeKiB: value.kib } : {}),
            ...(value.objects !== undefined ? { storeObjects: value.objects } : {}),
            ...(value.at ? { storeUsageAt: value.at } : {}),
            tolerance: { percent: tolerance.percent, mib: tolerance.bytes / 1024 ** 2 },
            ...(kibQuirk ? { knownCause: CEPH_KIB_BUG } : {}),
          },
          remediation: {
            summary: kibQuirk
              ? 'A CloudStack bug, not a change in the store: usage-based billing for this bucket is 1024 times too low until it is fixed upstream.'
              : "CloudStack's usage task has not caught up with the store, or cannot reach it.",
            steps: kibQuirk
              ? [
                  'Track apache/cloudstack#13224 and upgrade once it is fixed; until then correct usage-based charges by hand for Ceph buckets.',
                  'Suppress this finding with a reason and an expiry if the gap is accepted until the upgrade.',
                  `Verify: after the upgrade, the next audit no longer reports ${bucket.name}.`,
                ]
              : [
                  "Check the management server's log for errors of the bucket usage task (it runs hourly) and that it can reach the store.",
                  'Wait for the next usage run if the store changed in the last hour, then re-run the audit.',
                  `Verify: cmk list buckets id=${bucket.uuid ?? bucket.id} listall=true shows a size close to ${value.bytes} bytes, and the next audit no longer reports it.`,
                ],
          },
        }),
      ];
    });
  },
});
