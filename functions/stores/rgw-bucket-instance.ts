// RGW keeps a bucket's versioning, object lock and policy in its bucket instance's metadata, so one
// admin request per bucket (GET /admin/metadata/bucket.instance) replaces three S3 requests. It needs
// the metadata=read cap: without it (401/403), and for a bucket whose instance the listing did not
// name or that moved since (a reshard: 404), the S3 reads stand in.
import pMap from 'p-map';
import * as z from 'zod';
import type { BucketAttribute, BucketAttributes, Observed } from '../core/model.js';
import { byName } from '../core/model.js';
import { PolicyUnreadableError, noPolicy, policyMeaning } from '../core/policy-meaning.js';
import type { AdminApiClient } from './admin-api.js';
import type { InspectTarget } from './adapter.js';
import { describeError, httpStatusOf, storeFaultOrThrow } from './classify.js';
import type { S3AttributeReader } from './s3-attributes.js';

/** RGWBucketFlags in Ceph's rgw_common.h. */
const BUCKET_VERSIONED = 0x2;
const BUCKET_VERSIONS_SUSPENDED = 0x4;
const BUCKET_OBJ_LOCK_ENABLED = 0x20;
const POLICY_ATTR = 'user.rgw.iam-policy';

export const INSTANCE_ATTRIBUTES = ['versioning', 'objectLock', 'policy'] as const;
type InstanceAttribute = (typeof INSTANCE_ATTRIBUTES)[number];

/**
 * `radosgw-admin metadata get bucket.instance:…` as the admin API answers it
 * (RGWBucketInstanceMetadataObject). Other keys are allowed and left out of the result (a million of
 * these answers are parsed in a night: copying their twenty-odd other keys is garbage to collect).
 */
const bucketInstance = z.object({
  data: z.object({
    bucket_info: z.object({
      bucket: z.object({ name: z.string() }),
      flags: z.number().int().nonnegative(),
    }),
    attrs: z.array(z.object({ key: z.string(), val: z.string() })).optional(),
  }),
});
type BucketInstance = z.infer<typeof bucketInstance>;

export class RgwBucketInstanceReader {
  private refused = false;

  constructor(
    private readonly admin: AdminApiClient,
    private readonly s3: S3AttributeReader,
    private readonly concurrency: number,
  ) {}

  /** `instanceKey(name)`: `<bucket>:<bucket id>` from the admin listing, or null where it gave none. */
  async read(
    targets: InspectTarget[],
    wanted: readonly BucketAttribute[],
    instanceKey: (name: string) => string | null,
  ): Promise<Record<string, BucketAttributes>> {
    const attributes = INSTANCE_ATTRIBUTES.filter((a) => wanted.includes(a));
    const out = byName<BucketAttributes>();
    if (!attributes.length) return out;
    const viaS3: InspectTarget[] = [];
    // One read per target as the one before finishes (pMap), not a partition's five thousand queued
    // at once: those waiting closures outlived two scavenges, were promoted and left to a full GC.
    await pMap(
      targets,
      async (target) => {
        const key = instanceKey(target.name);
        if (this.refused || !key) return void viaS3.push(target);
        try {
          const body = await this.admin.get('metadata/bucket.instance', { key }, bucketInstance);
          out[target.name] = fromInstance(body, target.name, attributes);
        } catch (err) {
          storeFaultOrThrow(err);
          const status = httpStatusOf(err);
          if (status === 401 || status === 403) this.refused = true;
          if (status === 401 || status === 403 || status === 404) return void viaS3.push(target);
          const error = `${describeError(err)} reading the bucket instance metadata`;
          out[target.name] = Object.fromEntries(attributes.map((a) => [a, { error }]));
        }
      },
      { concurrency: this.concurrency },
    );
    if (viaS3.length) Object.assign(out, await this.s3.read(viaS3, attributes));
    return out;
  }
}

function fromInstance(
  body: BucketInstance,
  bucket: string,
  attributes: readonly InstanceAttribute[],
): BucketAttributes {
  const info = body.data.bucket_info;
  const flags = info.flags;
  if (info.bucket.name !== bucket) {
    const error = { error: 'the bucket instance metadata did not describe this bucket' };
    return Object.fromEntries(attributes.map((a) => [a, error]));
  }
  const read: Record<InstanceAttribute, () => Observed<unknown>> = {
    versioning: () => ({
      value: flags & BUCKET_VERSIONS_SUSPENDED ? 'Suspended' : flags & BUCKET_VERSIONED ? 'Enabled' : 'Off',
    }),
    objectLock: () => ({ value: (flags & BUCKET_OBJ_LOCK_ENABLED) !== 0 }),
    policy: () => {
      const attr = body.data.attrs?.find((a) => a.key === POLICY_ATTR);
      if (!attr) return { value: noPolicy() };
      try {
        return { value: policyMeaning(Buffer.from(attr.val, 'base64').toString('utf8'), bucket) };
      } catch (err) {
        if (err instanceof PolicyUnreadableError) return { error: err.message };
        throw err;
      }
    },
  };
  return Object.fromEntries(attributes.map((a) => [a, read[a]()])) as BucketAttributes;
}
