// Ceph RADOS Gateway: S3 ListBuckets shows only the caller's own buckets, so every bucket, its owner,
// usage and quota come from the admin ops API, listed user by user (rgw-listing.ts). Versioning, object lock and policy come from each bucket's instance metadata, one admin request
// per bucket; where that is refused, from S3, with the owner's keys where the admin is refused there too.
import type { BucketAttributes, StoreBucket } from '../core/model.js';
import * as z from 'zod';
import { AdminApiClient } from './admin-api.js';
import type { StoreAdapter } from './adapter.js';
import { ListingCutShortError } from './classify.js';
import { CountingHttpHandler } from './http.js';
import { OwnerClients } from './owner-clients.js';
import { RgwBucketInstanceReader } from './rgw-bucket-instance.js';
import { readRgwPrincipals } from './rgw-principals.js';
import { isNoSuchBucket, rgwOwnerListing } from './rgw-listing.js';
import { S3AttributeReader } from './s3-attributes.js';
import { headBucket, makeS3Client } from './s3-client.js';

interface RgwBucketStats {
  bucket?: unknown;
  id?: unknown;
  owner?: unknown;
  tenant?: unknown;
  creation_time?: unknown;
  /** When the bucket's instance last changed (versioning, policy, …): kept with the listed bucket. */
  mtime?: unknown;
  usage?: Record<string, { size?: number; size_kb?: number; num_objects?: number }>;
  bucket_quota?: { enabled?: boolean; max_size?: number; max_size_kb?: number };
}

export const cephRgwAdapter: StoreAdapter = {
  capabilities: ['owner', 'usage', 'quota', 'versioning', 'objectLock', 'policy'],
  notApplicable: {
    encryption: "CloudStack's Ceph driver does not support bucket encryption",
  },
  // The instance's id and mtime: what test/integration/mtime-ceph.test.ts proves each change moves.
  identity: {
    of: (b) => (b.instanceId && b.mtime ? `${b.instanceId}@${b.mtime}` : undefined),
    covers: ['versioning', 'objectLock', 'policy'],
  },
  connect(store, options, context = {}) {
    const handler = new CountingHttpHandler(options);
    const listingHandler = new CountingHttpHandler(options, { listingOf: context.expectedBuckets ?? 0 });
    const admin = new AdminApiClient(store, handler, options, '/admin');
    const listing = new AdminApiClient(store, listingHandler, options, '/admin');
    const s3 = makeS3Client(store, handler, options);
    const owners = new OwnerClients(store, handler, options, context);
    const viaS3 = new S3AttributeReader(s3, options.concurrency, (t) => owners.for(t));
    const instances = new RgwBucketInstanceReader(admin, viaS3, options.concurrency);
    const byOwner = rgwOwnerListing<RgwBucketStats>(admin, listing, options);
    return {
      listBuckets: (onBucket) => byOwner.buckets(whatIsRead, (entry) => onBucket(asStoreBucket(entry))),
      listNames: (onName) => byOwner.names(onName),
      listsOwner: (owner) => byOwner.listsOwner(owner),
      // One bucket, whoever owns it: S3 HeadBucket with the admin's keys answers 403 for another
      // user's bucket on RGW, which says nothing about its existence; the admin API answers for any.
      async lookUpBucket(name) {
        try {
          const entry = await admin.get(
            'bucket',
            { bucket: name, stats: 'true', format: 'json' },
            oneBucketSchema,
          );
          return asStoreBucket(whatIsRead(entry));
        } catch (err) {
          if (isNoSuchBucket(err)) return null;
          throw err;
        }
      },
      async readAttributes(targets, wanted) {
        const byName = new Map(targets.map((t) => [t.name, t.listed]));
        // A tenant's bucket (tenant:name) has another key form; S3 reads it.
        const attributes = await instances.read(targets, wanted, (name) => {
          const listed = byName.get(name);
          return listed?.instanceId ? `${name}:${listed.instanceId}` : null;
        });
        for (const t of targets) attributes[t.name] = { ...attributes[t.name], ...fromListing(t.listed) };
        return { attributes };
      },
      headBucket: (name) => headBucket(s3, name),
      readPrincipals: () => readRgwPrincipals(admin, byOwner.uids, store, options, context.expectedUsers),
      requestCount: () => handler.requests + listingHandler.requests,
      close: () => {
        owners.close();
        s3.destroy();
        handler.destroy();
        listingHandler.destroy();
      },
    };
  },
};

/** `GET /admin/bucket?bucket=NAME&stats=true`: one entry of the listing, as an object. */
const oneBucketSchema = z.looseObject({ bucket: z.string().min(1) });

function asStoreBucket(entry: RgwBucketStats): StoreBucket {
  if (typeof entry?.bucket !== 'string' || !entry.bucket) {
    throw new ListingCutShortError('GET /admin/bucket?stats=true returned an entry without a bucket name');
  }
  const name = entry.tenant ? `${String(entry.tenant)}:${entry.bucket}` : entry.bucket;
  const created = typeof entry.creation_time === 'string' ? Date.parse(entry.creation_time) : NaN;
  const size = entry.usage ? Number(entry.usage['rgw.main']?.size ?? 0) : NaN;
  const main = entry.usage?.['rgw.main'];
  const quota = entry.bucket_quota;
  const maxBytes = quota?.max_size ?? (quota?.max_size_kb !== undefined ? quota.max_size_kb * 1024 : -1);
  return {
    name,
    ...(typeof entry.owner === 'string' ? { owner: entry.owner } : {}),
    // A bucket with no object has no rgw.main usage: it holds 0 bytes, which the store did say.
    ...(Number.isFinite(size) && size >= 0 ? { bytes: size } : {}),
    ...(Number.isNaN(created) ? {} : { createdAt: new Date(created).toISOString() }),
    ...(typeof entry.id === 'string' && !entry.tenant ? { instanceId: entry.id } : {}),
    ...(typeof entry.mtime === 'string' ? { mtime: entry.mtime } : {}),
    usage: {
      bytes: Number(main?.size ?? 0),
      kib: Number(main?.size_kb ?? 0),
      objects: Number(main?.num_objects ?? 0),
    },
    ...(quota ? { quota: quota.enabled && maxBytes > 0 ? maxBytes : null } : {}),
  };
}

/**
 * Of each entry of the listing, only what the rules read: an entry is some 800 bytes of index-shard
 * markers and placement, and 100,000 of them kept whole would not fit a 512 MB function.
 */
function whatIsRead(raw: unknown): RgwBucketStats {
  const entry = (raw ?? {}) as RgwBucketStats;
  const main = entry.usage?.['rgw.main'];
  const quota = entry.bucket_quota;
  return {
    bucket: entry.bucket,
    id: entry.id,
    tenant: entry.tenant,
    owner: entry.owner,
    creation_time: entry.creation_time,
    mtime: entry.mtime,
    ...(entry.usage
      ? {
          usage: main
            ? { 'rgw.main': { size: main.size, size_kb: main.size_kb, num_objects: main.num_objects } }
            : {},
        }
      : {}),
    ...(quota
      ? { bucket_quota: { enabled: quota.enabled, max_size: quota.max_size, max_size_kb: quota.max_size_kb } }
      : {}),
  };
}

/** Owner, usage and quota as the admin listing gave them: no further request. */
function fromListing(listed: StoreBucket): BucketAttributes {
  return {
    owner:
      listed.owner !== undefined
        ? { value: { storeOwner: listed.owner } }
        : { error: 'the admin listing gave no owner' },
    ...(listed.usage ? { usage: { value: listed.usage } } : {}),
    quota:
      listed.quota !== undefined
        ? { value: listed.quota }
        : { error: 'the admin listing gave no bucket_quota' },
  };
}
