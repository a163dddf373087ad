import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { AbsenceCheck, StoreTarget } from '../core/model.js';
import { describeError, httpStatusOf, storeFaultOrThrow } from './classify.js';
import type { CountingHttpHandler, TransportOptions } from './http.js';
import { StoreError } from '../core/errors.js';

/** An S3 client for a private, S3-compatible store: path-style, lenient checksums, SDK retries with jitter. */
export function makeS3Client(
  store: StoreTarget,
  handler: CountingHttpHandler,
  options: TransportOptions,
): S3Client {
  if (!store.credentials) throw new StoreError('no credentials');
  return new S3Client({
    endpoint: store.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: store.credentials.accessKey, secretAccessKey: store.credentials.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts,
    requestHandler: handler,
  });
}

/** Only a 404 / NoSuchBucket is "absent"; a 403, a 5xx or a timeout is "unknown". */
export async function headBucket(
  s3: S3Client,
  name: string,
): Promise<{ result: AbsenceCheck; detail?: string }> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: name }));
    return { result: 'present' };
  } catch (err) {
    storeFaultOrThrow(err);
    const e = err as { name?: string };
    if (httpStatusOf(err) === 404 && (e.name === 'NotFound' || e.name === 'NoSuchBucket'))
      return { result: 'absent', detail: 'HTTP 404' };
    return { result: 'unknown', detail: describeError(err) };
  }
}
