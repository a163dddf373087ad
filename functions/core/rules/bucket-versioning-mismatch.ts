import { updateBucketCommand } from '../playbooks.js';
import { attributeCoverage, comparable } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { ownerText } from './rule.js';
import type { Rule } from './rule.js';

// CloudStack turns versioning off by suspending it, so false matches both Suspended and never-enabled.
export const bucketVersioningMismatch: Rule = {
  id: 'bucket-versioning-mismatch',
  defaultSeverity: 'medium',
  attribute: 'versioning',
  description:
    "CloudStack's versioning flag disagrees with the store: true needs Enabled; false matches Suspended or never enabled.",
  needs: 'verified',
  coverage: attributeCoverage('versioning'),
  evaluate(view, ctx) {
    return comparable(view, 'versioning', ctx).flatMap(({ bucket, value }) => {
      const expected = bucket.versioning === true;
      const actual = value === 'Enabled';
      if (expected === actual) return [];
      const status = expected ? 'Enabled' : 'Suspended';
      return [
        attributeFinding(view, bucket, {
          attribute: 'versioning',
          expected,
          actual,
          message: `Bucket ${bucket.name} of ${ownerText(bucket)} has versioning ${expected ? 'on' : 'off'} in CloudStack but ${value === 'Off' ? 'never enabled' : value} in store ${view.store.name}.`,
          evidence: { storeStatus: value },
          remediation: {
            summary: `Re-apply CloudStack's setting (versioning=${expected}) so the store matches what the owner sees and pays for.`,
            steps: [
              `Ask the owner whether the change in the store was intended; if so, record it in CloudStack instead: ${updateBucketCommand(bucket, 'versioning', actual)}`,
              `Otherwise re-apply CloudStack's value: ${updateBucketCommand(bucket, 'versioning', expected)}`,
              `Or in the store: aws s3api put-bucket-versioning --bucket ${bucket.name} --versioning-configuration Status=${status} --endpoint-url ${view.store.endpoint}`,
              `Verify: aws s3api get-bucket-versioning --bucket ${bucket.name} shows ${expected ? 'Enabled' : 'Suspended (or nothing)'}, and the next audit no longer reports it.`,
            ],
          },
        }),
      ];
    });
  },
};
