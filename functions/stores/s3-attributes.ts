// Versioning, default encryption, object lock and bucket policy through plain S3 calls, one request
// per attribute and bucket. When the admin keys are refused on a bucket (RGW without --system), the
// owner's keys are tried, and preferred for the rest of the store so the refusal is paid for once.
import { StoreError } from '../core/errors.js';
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import pMap from 'p-map';
import type { BucketAttribute, BucketAttributes, Observed } from '../core/model.js';
import { byName } from '../core/model.js';
import { PolicyUnreadableError, noPolicy, policyMeaning } from '../core/policy-meaning.js';
import type { InspectTarget } from './adapter.js';
import { expectDocument } from './s3-document.js';
import { NotTheDocumentError, describeError, httpStatusOf, storeFaultOrThrow } from './classify.js';

export const S3_ATTRIBUTES = ['versioning', 'encryption', 'objectLock', 'policy'] as const;
type S3Attribute = (typeof S3_ATTRIBUTES)[number];

type Reading = NonNullable<BucketAttributes[S3Attribute]>;

/** An attribute the store would not give (its answer names why). */
class UnreadableError extends StoreError {
  override name = 'UnreadableError';
}

async function readOne(s3: S3Client, bucket: string, attribute: S3Attribute): Promise<Reading> {
  const notFound = (err: unknown, code: RegExp): boolean => {
    const name = (err as { name?: string; Code?: string }).name ?? '';
    return httpStatusOf(err) === 404 && name !== 'NoSuchBucket' && code.test(name);
  };
  switch (attribute) {
    case 'versioning': {
      const out = await s3.send(
        expectDocument(new GetBucketVersioningCommand({ Bucket: bucket }), {
          xmlRoot: 'VersioningConfiguration',
        }),
      );
      return { value: out.Status === 'Enabled' || out.Status === 'Suspended' ? out.Status : 'Off' };
    }
    case 'encryption':
      try {
        const out = await s3.send(
          expectDocument(new GetBucketEncryptionCommand({ Bucket: bucket }), {
            xmlRoot: 'ServerSideEncryptionConfiguration',
          }),
        );
        const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        // RGW 16 answers 200 with a bucket listing here: no rules is "cannot tell", never "encrypted".
        if (!rule?.SSEAlgorithm) throw new UnreadableError('the store answered without encryption rules');
        return { value: rule.SSEAlgorithm };
      } catch (err) {
        if (notFound(err, /ServerSideEncryptionConfigurationNotFound/i)) return { value: null };
        throw err;
      }
    case 'objectLock':
      try {
        const out = await s3.send(
          expectDocument(new GetObjectLockConfigurationCommand({ Bucket: bucket }), {
            xmlRoot: 'ObjectLockConfiguration',
          }),
        );
        return { value: out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled' };
      } catch (err) {
        if (notFound(err, /ObjectLockConfigurationNotFound/i)) return { value: false };
        throw err;
      }
    case 'policy':
      try {
        const out = await s3.send(
          expectDocument(new GetBucketPolicyCommand({ Bucket: bucket }), { json: 'object' }),
        );
        return { value: out.Policy ? policyMeaning(out.Policy, bucket) : noPolicy() };
      } catch (err) {
        if (notFound(err, /NoSuchBucketPolicy/i)) return { value: noPolicy() };
        throw err;
      }
  }
}

function refused(err: unknown): boolean {
  const status = httpStatusOf(err);
  return status === 401 || status === 403;
}

function asError(err: unknown, keys: string): { error: string } {
  if (
    err instanceof UnreadableError ||
    err instanceof PolicyUnreadableError ||
    err instanceof NotTheDocumentError
  )
    return { error: err.message };
  storeFaultOrThrow(err);
  if (httpStatusOf(err) === 404)
    return { error: `the bucket vanished while it was read (${describeError(err)})` };
  return { error: `${describeError(err)} with the ${keys}` };
}

export class S3AttributeReader {
  private adminRefused = false;

  constructor(
    private readonly admin: S3Client,
    private readonly concurrency: number,
    /** The owner's client, where the store has per-account keys; null when there are none. */
    private readonly ownerClient?: (target: InspectTarget) => Promise<S3Client | null>,
  ) {}

  async read(
    targets: InspectTarget[],
    wanted: readonly BucketAttribute[],
  ): Promise<Record<string, BucketAttributes>> {
    const attributes = S3_ATTRIBUTES.filter((a) => wanted.includes(a));
    const out = byName<BucketAttributes>();
    if (!attributes.length) return out;
    // Each read as the one before finishes (pMap over the pairs as they are needed), not every
    // bucket's and attribute's queued at once.
    const reads = function* () {
      for (const target of targets) for (const attribute of attributes) yield { target, attribute };
    };
    await pMap(
      reads(),
      async ({ target, attribute }) => {
        const entry = (out[target.name] ??= {});
        (entry as Record<string, Observed<unknown>>)[attribute] = await this.readWithFallback(
          target,
          attribute,
        );
      },
      { concurrency: this.concurrency },
    );
    return out;
  }

  private async readWithFallback(target: InspectTarget, attribute: S3Attribute): Promise<Reading> {
    const owner = this.adminRefused && this.ownerClient ? await this.ownerClient(target) : null;
    if (owner) {
      try {
        return await readOne(owner, target.name, attribute);
      } catch (err) {
        if (!refused(err)) return asError(err, "owner's keys");
        // The owner's keys were refused: the admin's may still work for this bucket.
      }
    }
    try {
      return await readOne(this.admin, target.name, attribute);
    } catch (err) {
      if (!refused(err) || !this.ownerClient) return asError(err, 'admin keys');
      this.adminRefused = true;
      if (owner) return asError(err, "admin keys and the owner's keys");
      const client = await this.ownerClient(target);
      if (!client)
        return { error: `${describeError(err)} with the admin keys, and no owner keys in account_details` };
      try {
        return await readOne(client, target.name, attribute);
      } catch (again) {
        return asError(again, "admin keys and the owner's keys");
      }
    }
  }
}
