import { ownerText } from '../model.js';
import { updateBucketWith } from '../remediation-steps.js';
import { GIB, humanBytes, updateBucketCommand } from '../playbooks.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';
import { cmd } from '../shell.js';

const CEPH_QUOTA_BUG =
  "CloudStack's Ceph driver passes the bucket name as the user id and the GB value as KB (upstream bug), so the quota it records is never set on the bucket";

// CloudStack records GB; stores answer in bytes. Both sides are normalised to bytes before comparing.
export const bucketQuotaMismatch = defineRule({
  id: 'bucket-quota-mismatch',
  defaultSeverity: 'medium',
  scan: { attributes: ['quota'], inspect: inspectionTargets },
  summary: "CloudStack's quota (GB) disagrees with the store's bucket quota (where the provider has one).",
  when: "DB `quota` (GB) against the store's bucket quota in bytes, normalised (Ceph, MinIO). On Ceph CloudStack's driver never sets it (an upstream bug the finding names)",
  whatToDo: 'Ceph: `radosgw-admin quota set --quota-scope=bucket …`; MinIO: `cmk update bucket id=… quota=…`',
  remediation: {
    whyNot: (finding) => {
      if (finding.store.provider === 'Ceph')
        return "updateBucket would repeat the Ceph driver's quota bug; set the quota in the store (the finding's steps)";
      if (finding.expected === null || finding.expected === undefined)
        return "CloudStack records no quota, and updateBucket cannot remove one; clear it in the store (the finding's steps)";
      return undefined;
    },
    plan: updateBucketWith('quota'),
  },
  reads: 'DB `bucket.quota`; store: bucket quota (RGW admin listing, MinIO admin API)',
  needs: 'verified',
  coverage: attributeCoverage('quota'),
  evaluate(view, ctx) {
    return comparable(view, 'quota', ctx).flatMap(({ bucket, value }) => {
      const expectedBytes = bucket.quota ? bucket.quota * GIB : null;
      if (expectedBytes === value) return [];
      const expected = bucket.quota || null;
      const actual = value === null ? null : Math.round((value / GIB) * 1000) / 1000;
      const ceph = view.store.provider === 'Ceph';
      // The driver's bug explains only a quota CloudStack recorded that the store never got.
      const driverBug = ceph && expectedBytes !== null && value === null;
      const show = (b: number | null) => (b === null ? 'no quota' : humanBytes(b));
      return [
        attributeFinding(view, bucket, {
          attribute: 'quota',
          expected,
          actual,
          message: `Bucket ${bucket.name} of ${ownerText(bucket.owner)} has ${expected === null ? 'no quota' : `a ${expected} GB quota`} in CloudStack, but store ${view.store.name} enforces ${show(value)}${driverBug ? ` (${CEPH_QUOTA_BUG})` : ''}.`,
          evidence: {
            storeQuotaBytes: value,
            expectedBytes,
            ...(driverBug ? { knownCause: CEPH_QUOTA_BUG } : {}),
          },
          remediation: {
            summary:
              expected === null
                ? 'The store limits a bucket CloudStack thinks unlimited: remove the store quota, or record it in CloudStack.'
                : "Apply CloudStack's quota in the store, so the owner gets the limit they are billed for.",
            steps: ceph
              ? [
                  expected === null
                    ? `Remove the store quota: ${cmd`radosgw-admin quota disable --quota-scope=bucket --bucket=${bucket.name}`}`
                    : `Set it in the store (updateBucket would repeat the driver's bug): ${cmd`radosgw-admin quota set --quota-scope=bucket --bucket=${bucket.name} --max-size=${expectedBytes ?? 0} && radosgw-admin quota enable --quota-scope=bucket --bucket=${bucket.name}`}`,
                  `Verify: ${cmd`radosgw-admin bucket stats --bucket=${bucket.name}`} shows bucket_quota ${expected === null ? 'disabled' : `enabled with max_size ${expectedBytes}`}, and the next audit no longer reports it.`,
                ]
              : [
                  expected === null
                    ? `Remove the store quota: ${cmd`mc quota clear ${`ALIAS/${bucket.name}`}`}`
                    : `Re-apply CloudStack's value: ${updateBucketCommand(bucket, 'quota', expected)}`,
                  ...(expected === null
                    ? []
                    : [
                        `Or in the store: ${cmd`mc quota set ${`ALIAS/${bucket.name}`} --size ${`${expected}GiB`}`}`,
                      ]),
                  `Verify: ${cmd`mc quota info ${`ALIAS/${bucket.name}`}`} shows ${expected === null ? 'no quota' : `${expected} GiB`}, and the next audit no longer reports it.`,
                ],
          },
        }),
      ];
    });
  },
});
