// The demo's cloud: a handful of accounts and buckets with each kind of drift the engine finds.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CloudStackSeed, hoursAgo } from './cloudstack-seed.js';
import type { ThrowawayDatabase } from './throwaway-db.js';

export const DEMO_STORE_KEYS = { accessKey: 'S3RVER', secretKey: 'S3RVER' }; // s3rver's built-in pair

/** A client of the demo's store with the keys CloudStack holds for it. */
export function demoS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: DEMO_STORE_KEYS.accessKey, secretAccessKey: DEMO_STORE_KEYS.secretKey },
  });
}

export interface SampleCloud {
  seedCase: string;
  planted: { rule: string; bucket: string | null }[];
}

export async function plantSampleCloud(
  database: ThrowawayDatabase,
  s3Endpoint: string,
): Promise<SampleCloud> {
  const seed = new CloudStackSeed(database.conn);
  const root = await seed.domain('ROOT');
  const acme = await seed.domain('Acme', root);
  const alice = await seed.account('alice', acme);
  const bob = await seed.account('bob', root);
  const web = await seed.project('web', acme);
  const carol = await seed.account('carol', acme, { removed: hoursAgo(24 * 20) });
  const minio = await seed.store({ name: 'minio-1', provider: 'MinIO', url: s3Endpoint, ...DEMO_STORE_KEYS });
  await seed.store({ name: 'sim-1', provider: 'Simulator', url: 'http://simulator.invalid' });

  const inStore = [
    'photos-prod',
    'backups-2025',
    'web-assets',
    'scratch-tmp',
    'old-reports',
    'shared-data',
    'carol-files',
  ];
  await seed.bucket({ name: 'photos-prod', store: minio, account: alice });
  await seed.bucket({ name: 'backups-2025', store: minio, account: alice });
  await seed.bucket({ name: 'web-assets', store: minio, account: web });
  await seed.bucket({ name: 'logs-archive', store: minio, account: bob, created: hoursAgo(0.1) }); // still within the grace period
  await seed.bucket({ name: 'old-reports', store: minio, account: bob, removed: hoursAgo(24 * 10) });
  await seed.bucket({
    name: 'upload-staging',
    store: minio,
    account: bob,
    state: 'Allocated',
    created: hoursAgo(3),
  });
  await seed.bucket({ name: 'shared-data', store: minio, account: alice });
  await seed.bucket({ name: 'shared-data', store: minio, account: bob, created: hoursAgo(47) });
  await seed.bucket({ name: 'carol-files', store: minio, account: carol });
  // Deleted in CloudStack a month ago, its usage statistics left at 250 GiB: billed every period since
  // (apache/cloudstack#13057). The usage server's table, not the store, is where this drift lives.
  const ghost = await seed.bucket({
    name: 'reports-2024',
    store: minio,
    account: bob,
    removed: hoursAgo(24 * 30),
  });
  await seed.bucketStatistics(ghost, bob, 250 * 1024 ** 3);

  const s3 = demoS3Client(s3Endpoint);
  try {
    for (const name of inStore) await s3.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    s3.destroy();
  }
  // The seed case (backups-2025 deleted in the store's console) happens on the last replayed night.
  return {
    seedCase: 'backups-2025',
    planted: [
      { rule: 'bucket-missing-in-store', bucket: 'backups-2025' },
      { rule: 'bucket-unmanaged-in-store', bucket: 'scratch-tmp' },
      { rule: 'bucket-removed-but-present', bucket: 'old-reports' },
      { rule: 'bucket-stuck-allocated', bucket: 'upload-staging' },
      { rule: 'bucket-duplicate-name', bucket: 'shared-data' },
      { rule: 'bucket-account-removed', bucket: 'carol-files' },
      { rule: 'bucket-billed-after-removal', bucket: 'reports-2024' },
    ],
  };
}
