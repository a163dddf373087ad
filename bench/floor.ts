// The floor: the fewest store requests every rule needs on a Ceph RGW, sent by a bare script at the
// audit's concurrency. One admin listing (every bucket with owner, usage and quota), a HeadBucket for
// each DB bucket the listing lacks, and per listed bucket its instance metadata (versioning, object
// lock, policy).
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { Keys } from '../test/support/ceph.js';
import { bareStore } from './bare-store.js';

export interface BareRun {
  ms: number;
  requests: number;
}

/** Only the request matters here: a 404 is an answer too. */
export const answered = (p: Promise<unknown>) =>
  p.then(
    () => {},
    () => {},
  );

export async function floorScan(
  endpoint: string,
  admin: Keys,
  dbBuckets: string[],
  concurrency: number,
): Promise<BareRun> {
  const store = bareStore(endpoint, admin, concurrency);
  const started = performance.now();
  try {
    const listing = await store.adminGet('bucket', { stats: 'true', format: 'json' });
    const ids = new Map((listing.body as { bucket: string; id: string }[]).map((b) => [b.bucket, b.id]));
    const limit = pLimit(concurrency);
    await Promise.all(
      dbBuckets.map((Bucket) =>
        limit(() => {
          const id = ids.get(Bucket);
          return id
            ? answered(store.adminGet('metadata/bucket.instance', { key: `${Bucket}:${id}` }))
            : answered(store.s3.send(new HeadBucketCommand({ Bucket })));
        }),
      ),
    );
    return { ms: performance.now() - started, requests: store.requests() };
  } finally {
    store.close();
  }
}
