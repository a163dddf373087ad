// What the handler tests share: a function's environment against the stand-ins and the live RGW,
// a Lambda context, and a handler module loaded fresh with that environment.
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { vi } from 'vitest';
import type { DbUrl } from '../../functions/cloudstack/db-url.js';
import type { CephCluster } from './ceph.js';

/** The database secret in the standard form, for a test's database. */
export const dbSecret = (db: DbUrl) =>
  JSON.stringify({
    host: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    dbname: db.database,
  });

/** What every function under test sees: the RGW as S3 with the admin's keys, the Secrets Manager stand-in, quiet Powertools. */
export function lambdaEnv(
  ceph: Pick<CephCluster, 'endpoint' | 'systemAdmin'>,
  secretsUrl: string,
  more: Record<string, string>,
): Record<string, string> {
  return {
    DB_SECRET_ID: 'csdrift/db',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
    AWS_ENDPOINT_URL_S3: ceph.endpoint,
    AWS_ACCESS_KEY_ID: ceph.systemAdmin.accessKey,
    AWS_SECRET_ACCESS_KEY: ceph.systemAdmin.secretKey,
    AWS_REGION: 'us-east-1',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    SECRETS_CACHE_MS: '0',
    ...more,
  };
}

/** In these tests the report bucket lives in the audited RGW itself: a known, accepted unmanaged bucket. */
export const reportBucketSuppression = (bucket: string) => ({
  rule: 'bucket-unmanaged-in-store',
  store: 'ceph-1',
  bucket,
  reason: 'the auditor’s own report bucket',
  owner: 'csdrift',
  expires: '2099-01-01',
});

/** A Lambda context, with the slots the secrets middleware fills. */
export function lambdaContext(
  remainingMs = 900_000,
): Context & { db: unknown; slack: unknown; webhookSecret: unknown } {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'csdrift-audit',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:csdrift-audit',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/csdrift-audit',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
    db: undefined,
    slack: undefined,
    webhookSecret: undefined,
  };
}

/** A handler module loaded anew with this environment (modules read it at init). */
export async function freshHandler<T>(path: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return (await import(path)) as T;
}

/**
 * A function URL request, as Lambda hands it over (payload format 2.0: AWS Lambda Developer Guide,
 * "Invoking Lambda function URLs", request payload; Powertools' LambdaFunctionUrlSchema checks it).
 * A body that is not text (a form, say) comes base64-encoded.
 */
export function functionUrlEvent(
  body: string,
  headers: Record<string, string>,
  options: { base64?: boolean; userAgent: string; sourceIp?: string },
): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'user-agent': options.userAgent, ...headers },
    isBase64Encoded: options.base64 ?? false,
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghij',
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: options.sourceIp ?? '192.0.2.10',
        userAgent: options.userAgent,
      },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      routeKey: '$default',
      stage: '$default',
      time: '04/Dec/2026:02:05:13 +0000',
      timeEpoch: 1796263513000,
    },
  } as unknown as LambdaFunctionURLEvent;
}
