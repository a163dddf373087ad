import { ownerText } from '../model.js';
import { attributeCoverage, comparable, inspectionTargets } from './attribute-rule.js';
import { attributeFinding } from './attribute-finding.js';
import { defineRule } from './rule.js';

// Object lock can only be turned on when a bucket is created, and never off: the fix is a new bucket
// or a corrected record, never updateBucket (which has no object-lock parameter).
export const bucketObjectLockMismatch = defineRule({
  id: 'bucket-object-lock-mismatch',
  defaultSeverity: 'medium',
  scan: { attributes: ['objectLock'], inspect: inspectionTargets },
  summary: "CloudStack's object_lock flag disagrees with the store's object lock configuration.",
  when: "DB `object_lock` against the store's object lock configuration",
  whatToDo: 'lock is set only at creation: a new bucket created with it, or a corrected row',
  reads: 'DB `bucket.object_lock`; store: object lock configuration (S3, RGW bucket instance)',
  needs: 'verified',
  coverage: attributeCoverage('objectLock'),
  evaluate(view, ctx) {
    return comparable(view, 'objectLock', ctx).flatMap(({ bucket, value }) => {
      const expected = bucket.objectLock === true;
      if (expected === value) return [];
      return [
        attributeFinding(view, bucket, {
          attribute: 'objectLock',
          expected,
          actual: value,
          message: expected
            ? `Bucket ${bucket.name} of ${ownerText(bucket.owner)} has object lock in CloudStack, but store ${view.store.name} has no object lock on it: its objects can be deleted or overwritten.`
            : `Bucket ${bucket.name} of ${ownerText(bucket.owner)} has no object lock in CloudStack, but store ${view.store.name} has it enabled.`,
          remediation: {
            summary:
              'Object lock is set only when a bucket is created and cannot be removed: correct the record, or move the data to a bucket created with the right setting.',
            steps: expected
              ? [
                  `Tell the owner that retention is not enforced on ${bucket.name}.`,
                  'Create a new bucket through CloudStack with object locking on (cmk create bucket … objectlocking=true), copy the data into it, then delete the old bucket through CloudStack.',
                  `Or, if the lock was never required, correct the record: \`UPDATE bucket SET object_lock = 0 WHERE id = ${bucket.id};\``,
                  `Verify: aws s3api get-object-lock-configuration --bucket <new bucket> shows ObjectLockEnabled=Enabled, and the next audit no longer reports it.`,
                ]
              : [
                  `Correct the record so CloudStack shows the lock the store enforces: \`UPDATE bucket SET object_lock = 1 WHERE id = ${bucket.id};\``,
                  `Verify: the next audit no longer reports ${bucket.name}.`,
                ],
          },
        }),
      ];
    });
  },
});
