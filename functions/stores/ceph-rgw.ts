// Ceph RADOS Gateway: S3 ListBuckets shows only the caller's own buckets, so every bucket and its
// owner come from the admin ops API (`GET /admin/bucket?stats=true`, one call for the whole store).
import type { StoreBucket } from '../core/model.js';
import type { StoreAdapter } from './adapter.js';
import { ListingCutShortError } from './classify.js';
import { CountingHttpHandler } from './http.js';
import { RgwAdminClient } from './rgw-admin.js';
import { headBucket, makeS3Client } from './s3-client.js';

interface RgwBucketStats {
  bucket?: unknown;
  owner?: unknown;
  tenant?: unknown;
  creation_time?: unknown;
}

export const cephRgwAdapter: StoreAdapter = {
  connect(store, options) {
    const handler = new CountingHttpHandler(options);
    const admin = new RgwAdminClient(store, handler, options);
    const s3 = makeS3Client(store, handler, options);
    return {
      async listBuckets() {
        const body = await admin.get('bucket', { stats: 'true' });
        if (!Array.isArray(body))
          throw new ListingCutShortError('GET /admin/bucket?stats=true did not answer with a list');
        return body.map((entry: RgwBucketStats): StoreBucket => {
          if (typeof entry?.bucket !== 'string' || !entry.bucket) {
            throw new ListingCutShortError(
              'GET /admin/bucket?stats=true returned an entry without a bucket name',
            );
          }
          const created = typeof entry.creation_time === 'string' ? Date.parse(entry.creation_time) : NaN;
          return {
            name: entry.tenant ? `${String(entry.tenant)}:${entry.bucket}` : entry.bucket,
            ...(typeof entry.owner === 'string' ? { owner: entry.owner } : {}),
            ...(Number.isNaN(created) ? {} : { createdAt: new Date(created).toISOString() }),
          };
        });
      },
      headBucket: (name) => headBucket(s3, name),
      requestCount: () => handler.requests,
      close: () => {
        s3.destroy();
        handler.destroy();
      },
    };
  },
};
