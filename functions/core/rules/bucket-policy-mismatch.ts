import { ownerText } from '../model.js';
import { updateBucketWith } from '../remediation-steps.js';
import { describePolicy } from '../policy-meaning.js';
import { updateBucketCommand } from '../playbooks.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';
import { cmd } from '../shell.js';

// Compared by meaning: CloudStack's 'public' is anonymous list plus anonymous read, anything else
// means no anonymous access at all. The text of the policy does not matter.
export const bucketPolicyMismatch = defineRule({
  id: 'bucket-policy-mismatch',
  defaultSeverity: 'high',
  scan: { attributes: ['policy'], inspect: inspectionTargets },
  summary:
    "CloudStack's policy (public or private) disagrees with what the store's bucket policy grants anonymous callers.",
  when: "DB `policy` against what the store's bucket policy grants anonymous callers, by meaning: `public` is anonymous list and read, anything else no anonymous access",
  whatToDo: '`cmk update bucket id=… policy=…`, or remove the store policy; check access logs',
  remediation: { plan: updateBucketWith('policy') },
  reads: 'DB `bucket.policy`; store: bucket policy (S3, RGW bucket instance)',
  needs: 'verified',
  coverage: attributeCoverage('policy'),
  evaluate(view, ctx) {
    return comparable(view, 'policy', ctx).flatMap(({ bucket, value }) => {
      const expected = String(bucket.policy ?? '').toLowerCase() === 'public' ? 'public' : 'private';
      const actual = describePolicy(value);
      if (expected === actual) return [];
      const exposed = expected === 'private';
      return [
        attributeFinding(view, bucket, {
          attribute: 'policy',
          expected,
          actual,
          message: exposed
            ? `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is private in CloudStack, but store ${view.store.name} grants ${actual === 'public' ? 'anonymous read and list' : actual}.`
            : `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is public in CloudStack, but store ${view.store.name} grants ${actual === 'private' ? 'no anonymous access' : actual}.`,
          evidence: { storePolicy: value },
          remediation: {
            summary: exposed
              ? 'Data CloudStack shows as private is reachable without credentials: close it first, then find out who opened it.'
              : "Re-apply CloudStack's policy so the bucket serves what its owner chose.",
            steps: [
              `Re-apply CloudStack's value: ${updateBucketCommand(bucket, 'policy', expected)}`,
              exposed
                ? `Or in the store, remove the policy: ${cmd`aws s3api delete-bucket-policy --bucket=${bucket.name} --endpoint-url=${view.store.endpoint}`}`
                : `Or in the store, set CloudStack's public policy (anonymous s3:ListBucket and s3:GetBucketLocation on the bucket, s3:GetObject on its objects): ${cmd`aws s3api put-bucket-policy --bucket=${bucket.name} --policy=file://public.json --endpoint-url=${view.store.endpoint}`}`,
              ...(exposed ? ["Check the store's access logs for anonymous reads of the bucket."] : []),
              `Verify: ${cmd`aws s3api get-bucket-policy --bucket=${bucket.name}`} grants ${expected === 'public' ? 'anonymous read and list' : 'nothing to anonymous callers'}, and the next audit no longer reports it.`,
            ],
          },
        }),
      ];
    });
  },
});
