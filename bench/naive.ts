// What a CloudStack operator would script by hand: list the store, then for each DB bucket, one
// request at a time, ask the admin API for the bucket (exists? owner, usage, quota) and S3 for its
// versioning, object lock and policy. A fresh connection per request, as curl or the aws CLI would
// use (without the process each of them would also start).
import {
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import type { Keys } from '../test/support/ceph.js';
import { bareStore } from './bare-store.js';
import type { BareRun } from './floor.js';
import { answered } from './floor.js';

export async function naiveScan(endpoint: string, admin: Keys, dbBuckets: string[]): Promise<BareRun> {
  const store = bareStore(endpoint, admin, 1);
  const started = performance.now();
  try {
    await store.adminGet('bucket', { format: 'json' });
    for (const Bucket of dbBuckets) {
      const stats = await store.adminGet('bucket', { bucket: Bucket, stats: 'true', format: 'json' });
      if (stats.status === 404) continue;
      await answered(store.s3.send(new GetBucketVersioningCommand({ Bucket })));
      await answered(store.s3.send(new GetObjectLockConfigurationCommand({ Bucket })));
      await answered(store.s3.send(new GetBucketPolicyCommand({ Bucket })));
    }
    return { ms: performance.now() - started, requests: store.requests() };
  } finally {
    store.close();
  }
}
