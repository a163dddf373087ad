// The demo replays a few nights so its report has a trend to draw and its summary a change to tell:
// each night changes the store the way people do behind CloudStack's back, then the nightly full
// audit runs with that night's clock. The sizes are small so the demo stays quick and its disk use low.
import { DeleteBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';

const MIB = 1024 ** 2;

export interface DemoNight {
  /** How many days before now this night's audit runs (0: tonight, the run the demo prints). */
  daysAgo: number;
  /** What happened in the store during the day before. */
  story: string;
  apply(s3: S3Client): Promise<void>;
}

async function put(s3: S3Client, bucket: string, key: string, mib: number): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(mib * MIB, 0x61) }));
}

export const DEMO_NIGHTS: DemoNight[] = [
  {
    daysAgo: 3,
    story:
      'scratch-tmp (no CloudStack record) gets 4 MiB; old-reports, deleted in CloudStack, still holds 6 MiB',
    async apply(s3) {
      await put(s3, 'scratch-tmp', 'dump-1.bin', 4);
      await put(s3, 'old-reports', 'q1.csv', 6);
      await put(s3, 'carol-files', 'notes.txt', 2);
      await put(s3, 'photos-prod', 'cat.jpg', 1);
    },
  },
  {
    daysAgo: 2,
    story: 'scratch-tmp grows by 8 MiB',
    apply: (s3) => put(s3, 'scratch-tmp', 'dump-2.bin', 8),
  },
  {
    daysAgo: 1,
    story: 'scratch-tmp grows by 12 MiB',
    apply: (s3) => put(s3, 'scratch-tmp', 'dump-3.bin', 12),
  },
  {
    daysAgo: 0,
    story: "backups-2025 is deleted in the store's console (the seed case); scratch-tmp grows by 8 MiB",
    async apply(s3) {
      await s3.send(new DeleteBucketCommand({ Bucket: 'backups-2025' }));
      await put(s3, 'scratch-tmp', 'dump-4.bin', 8);
    },
  },
];
