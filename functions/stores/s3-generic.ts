// Any S3-compatible store whose admin credentials see every bucket through ListBuckets (MinIO, others).
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import type { StoreBucket } from '../core/model.js';
import type { StoreAdapter } from './adapter.js';
import { ListingCutShortError } from './classify.js';
import { CountingHttpHandler } from './http.js';
import { headBucket, makeS3Client } from './s3-client.js';

const MAX_PAGES = 10_000;

export const genericS3Adapter: StoreAdapter = {
  connect(store, options) {
    const handler = new CountingHttpHandler(options);
    const s3 = makeS3Client(store, handler, options);
    return {
      async listBuckets() {
        const buckets: StoreBucket[] = [];
        let token: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const out = await s3.send(new ListBucketsCommand(token ? { ContinuationToken: token } : {}));
          if (!out.Buckets) throw new ListingCutShortError('ListBuckets answered without a bucket list');
          for (const b of out.Buckets) {
            if (!b.Name) throw new ListingCutShortError('ListBuckets returned a bucket without a name');
            buckets.push({
              name: b.Name,
              ...(b.CreationDate ? { createdAt: b.CreationDate.toISOString() } : {}),
            });
          }
          if (!out.ContinuationToken || out.ContinuationToken === token) return buckets;
          token = out.ContinuationToken;
        }
        throw new ListingCutShortError(`ListBuckets still paginating after ${MAX_PAGES} pages`);
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
