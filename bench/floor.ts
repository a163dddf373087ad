// The floor: the fewest store requests every rule needs on a Ceph RGW, sent by a bare script at the
// audit's concurrency. The admin listing by owner (the user pages, each user's buckets with owner,
// usage and quota, the bucket-name pages), a HeadBucket for each DB bucket the listing lacks, per
// listed bucket its instance metadata (versioning, object lock, policy), and per user its keys and caps.
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { Keys } from '../test/support/ceph.js';
import { bareStore } from './bare-store.js';
import type { BareStore } from './bare-store.js';

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

/** Every key of a metadata listing, 1,000 a page. */
async function pagedKeys(store: BareStore, section: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const { body } = await store.adminGet(`metadata/${section}`, {
      format: 'json',
      'max-entries': '1000',
      ...(marker ? { marker } : {}),
    });
    const page = body as { keys: string[]; truncated?: string | boolean; marker?: string };
    keys.push(...page.keys);
    if (!(page.truncated === true || page.truncated === 'true') || !page.marker) return keys;
    marker = page.marker;
  }
}

export async function floorScan(
  endpoint: string,
  admin: Keys,
  dbBuckets: string[],
  concurrency: number,
): Promise<BareRun> {
  const store = bareStore(endpoint, admin, concurrency);
  const started = performance.now();
  try {
    const limit = pLimit(concurrency);
    const uids = await pagedKeys(store, 'user');
    const ids = new Map<string, string>();
    await Promise.all(
      uids.map((uid) =>
        limit(async () => {
          const { body } = await store.adminGet('bucket', { uid, stats: 'true', format: 'json' });
          for (const b of body as { bucket: string; id: string }[]) ids.set(b.bucket, b.id);
        }),
      ),
    );
    await pagedKeys(store, 'bucket');
    await Promise.all([
      ...dbBuckets.map((Bucket) =>
        limit(() => {
          const id = ids.get(Bucket);
          return id
            ? answered(store.adminGet('metadata/bucket.instance', { key: `${Bucket}:${id}` }))
            : answered(store.s3.send(new HeadBucketCommand({ Bucket })));
        }),
      ),
      ...uids.map((uid) => limit(() => answered(store.adminGet('user', { uid, format: 'json' })))),
    ]);
    return { ms: performance.now() - started, requests: store.requests() };
  } finally {
    store.close();
  }
}
