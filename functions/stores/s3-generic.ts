// Any S3-compatible store whose admin credentials see every bucket through ListBuckets (MinIO, others).
import type { S3Client } from '@aws-sdk/client-s3';
import type { BucketAttribute } from '../core/model.js';
import type { ScanContext, StoreAdapter, StoreConnection } from './adapter.js';
import { SignedGetClient } from './admin-api.js';
import { CountingHttpHandler } from './http.js';
import type { TransportOptions } from './http.js';
import { S3AttributeReader, S3_ATTRIBUTES } from './s3-attributes.js';
import { headBucket, makeS3Client } from './s3-client.js';
import { listAllBuckets } from './s3-listing.js';
import type { StoreTarget } from '../core/model.js';

/** The plain S3 part every S3-speaking adapter shares: listing, HeadBucket, the S3 attributes. */
export function s3Connection(
  store: StoreTarget,
  options: TransportOptions,
  context: ScanContext = {},
): StoreConnection & { s3: S3Client; handler: CountingHttpHandler } {
  const handler = new CountingHttpHandler(options);
  const s3 = makeS3Client(store, handler, options);
  const reader = new S3AttributeReader(s3, options.concurrency);
  const listingHandler = new CountingHttpHandler(options, { listingOf: context.expectedBuckets ?? 0 });
  const listing = new SignedGetClient(store, listingHandler, options);
  return {
    s3,
    handler,
    listBuckets: (onBucket) => listAllBuckets(listing, onBucket, options.maxBuckets),
    readAttributes: async (targets, wanted) => ({ attributes: await reader.read(targets, wanted) }),
    headBucket: (name) => headBucket(s3, name),
    requestCount: () => handler.requests + listingHandler.requests,
    close: () => {
      s3.destroy();
      handler.destroy();
      listingHandler.destroy();
    },
  };
}

const NO_ADMIN_API = 'no admin API is known for this provider: the auditor reads S3 only';

export const genericS3Adapter: StoreAdapter = {
  capabilities: S3_ATTRIBUTES,
  notApplicable: { owner: NO_ADMIN_API, quota: NO_ADMIN_API, usage: NO_ADMIN_API },
  connect: (store, options, context) => s3Connection(store, options, context),
};

const CLOUDIAN_ADMIN = "this version does not read Cloudian HyperStore's admin API";

export const cloudianAdapter: StoreAdapter = {
  capabilities: S3_ATTRIBUTES,
  notApplicable: {
    owner: CLOUDIAN_ADMIN,
    usage: CLOUDIAN_ADMIN,
    quota: "CloudStack's Cloudian HyperStore driver has no bucket quota",
  } satisfies Partial<Record<BucketAttribute, string>>,
  connect: (store, options, context) => s3Connection(store, options, context),
};
