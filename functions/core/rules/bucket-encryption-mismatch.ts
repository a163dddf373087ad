import { ownerText } from '../model.js';
import { updateBucketWith } from '../remediation-steps.js';
import { updateBucketCommand } from '../playbooks.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';
import { cmd } from '../shell.js';

export const bucketEncryptionMismatch = defineRule({
  id: 'bucket-encryption-mismatch',
  defaultSeverity: 'high',
  scan: { attributes: ['encryption'], inspect: inspectionTargets },
  summary:
    "CloudStack's encryption flag disagrees with the store's default encryption (where the provider supports it).",
  when: "DB `encryption` against the store's default encryption rules (MinIO, Cloudian, generic S3; not Ceph, whose CloudStack driver has no encryption)",
  whatToDo: '`cmk update bucket id=… encryption=…`; encrypt objects written meanwhile',
  remediation: { plan: updateBucketWith('encryption') },
  reads: 'DB `bucket.encryption`; store: default encryption (S3)',
  needs: 'verified',
  coverage: attributeCoverage('encryption'),
  evaluate(view, ctx) {
    return comparable(view, 'encryption', ctx).flatMap(({ bucket, value }) => {
      const expected = bucket.encryption === true;
      const actual = value !== null;
      if (expected === actual) return [];
      return [
        attributeFinding(view, bucket, {
          attribute: 'encryption',
          expected,
          actual,
          message: expected
            ? `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is encrypted in CloudStack, but store ${view.store.name} has no default encryption for it: new objects are stored unencrypted.`
            : `Bucket ${bucket.name} of ${ownerText(bucket.owner)} is unencrypted in CloudStack, but store ${view.store.name} encrypts it by default (${value}).`,
          evidence: { storeAlgorithm: value },
          remediation: {
            summary: `Re-apply CloudStack's setting (encryption=${expected}).`,
            steps: [
              `Re-apply CloudStack's value: ${updateBucketCommand(bucket, 'encryption', expected)}`,
              expected
                ? `Or in the store: ${cmd`aws s3api put-bucket-encryption --bucket=${bucket.name} --server-side-encryption-configuration=${'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'} --endpoint-url=${view.store.endpoint}`}`
                : `Or in the store: ${cmd`aws s3api delete-bucket-encryption --bucket=${bucket.name} --endpoint-url=${view.store.endpoint}`}`,
              ...(expected
                ? [
                    'Objects written while encryption was off stay unencrypted: copy them onto themselves to encrypt them.',
                  ]
                : []),
              `Verify: ${cmd`aws s3api get-bucket-encryption --bucket=${bucket.name}`} ${expected ? 'shows an SSE rule' : 'answers ServerSideEncryptionConfigurationNotFoundError'}, and the next audit no longer reports it.`,
            ],
          },
        }),
      ];
    });
  },
});
