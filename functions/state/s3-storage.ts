// State storage under s3://bucket/prefix, on AWS or any S3-compatible store (Ceph RGW). A conditional
// write is If-Match on the ETag read, or If-None-Match when there was none, so two overlapping runs
// cannot clobber each other.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConfigError, InvalidInputError, StateConflictError } from '../core/errors.js';
import type { StateStorage, Versioned } from './storage.js';

/** S3's bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens, no `..`, not an IP address. */
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(uri);
  const bucket = match?.[1] ?? '';
  if (!BUCKET_NAME.test(bucket))
    throw new InvalidInputError(
      `--out ${uri}: "${bucket}" is not an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens); expected s3://BUCKET/PREFIX`,
    );
  const prefix = (match?.[2] ?? '').replace(/\/+$/, '');
  // A `.` or `..` segment would be resolved away by the client: the report would land elsewhere than printed.
  if (prefix.split('/').some((part) => part === '.' || part === '..' || (part === '' && prefix !== '')))
    throw new InvalidInputError(`--out ${uri}: the prefix may not hold empty, "." or ".." segments`);
  return { bucket, prefix };
}

/** The default credential chain; the SDK's endpoint variables point it at a private store. */
export function defaultS3Client(): S3Client {
  const customEndpoint = Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL);
  return new S3Client({
    forcePathStyle: customEndpoint, // private stores rarely resolve bucket subdomains
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const statusOf = (err: unknown) =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export class S3Storage implements StateStorage {
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    uri: string,
    private readonly s3: S3Client = defaultS3Client(),
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Uri(uri));
  }

  private key(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** Every request: a missing region is the user's to set, said in one line, not the SDK's words. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      if (/region is missing/i.test((err as Error).message ?? ''))
        throw new ConfigError(
          `--out s3://${this.bucket}: no AWS region is configured: set AWS_REGION (or a profile's region)`,
          { cause: err },
        );
      throw err;
    }
  }

  location(key: string): string {
    return `s3://${this.bucket}/${this.key(key)}`;
  }

  async read(key: string): Promise<Versioned | null> {
    try {
      const out = await this.call(() =>
        this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) })),
      );
      return { text: (await out.Body?.transformToString('utf8')) ?? '', version: out.ETag ?? '' };
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    const base = this.prefix ? `${this.prefix}/` : '';
    do {
      const out = await this.call(() =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.key(prefix),
            ContinuationToken: token,
          }),
        ),
      );
      for (const o of out.Contents ?? []) if (o.Key?.startsWith(base)) keys.push(o.Key.slice(base.length));
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.call(() =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: body,
          ContentType: contentType,
        }),
      ),
    );
  }

  async remove(key: string): Promise<void> {
    await this.call(() => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) })));
  }

  async putIf(key: string, body: string, expected: string | null): Promise<string> {
    const written = await this.conditionalPut(key, body, expected);
    if (written) return written;
    // RGW 16 compares If-Match with the bare ETag and refuses the quoted form RFC 9110 asks for.
    // If the key is unchanged, say it the bare way: still conditional, so nothing slips in.
    const bare = expected?.replace(/^"|"$/g, '');
    if (bare && bare !== expected && (await this.currentVersion(key)) === expected) {
      const retried = await this.conditionalPut(key, body, bare);
      if (retried) return retried;
    }
    throw new StateConflictError(`another run updated ${this.location(key)} while this one ran`);
  }

  /** The new ETag when written; undefined when the store refused the precondition. */
  private async conditionalPut(
    key: string,
    body: string,
    ifMatch: string | null,
  ): Promise<string | undefined> {
    try {
      const out = await this.call(() =>
        this.s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(key),
            Body: body,
            ContentType: 'application/json',
            ...(ifMatch ? { IfMatch: ifMatch } : { IfNoneMatch: '*' }),
          }),
        ),
      );
      return out.ETag ?? '';
    } catch (err) {
      const status = statusOf(err);
      if (status === 412 || status === 409) return undefined;
      throw err;
    }
  }

  private async currentVersion(key: string): Promise<string | null> {
    try {
      const out = await this.call(() =>
        this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) })),
      );
      return out.ETag ?? null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw err;
    }
  }
}
