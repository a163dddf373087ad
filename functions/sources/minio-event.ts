// MinIO's own change feeds, read into change events. Pure. Only which bucket to look at again:
// never a verdict. Shapes from MinIO's source (FACTS.md, "MinIO"):
// - the audit webhook (internal/logger/target/http/http.go) POSTs madmin-go's audit Entry
//   (logger/audit/entry.go): `time`, `api{name,bucket,statusCode}`, `requestQuery`, and
//   `requestHeader`, which holds the client's Authorization header and is never read here;
// - ListenNotification (cmd/listen-notification-handlers.go) streams `{"Records":[<event>]}` per
//   line, with keep-alive blanks or `{"Records":null}` pings in between.
import * as z from 'zod';
import { bucketNameProblem } from '../core/bucket-name.js';
import type { ChangeEvent } from './cloudstack-event.js';
import type { EventActor } from './cloudstack-event.js';
import { MalformedEventError, actorOf } from './cloudstack-event.js';
import { parseJson } from '../core/validation.js';

/** API calls that change what the rules compare (cmd/api-router.go names; quota is an admin call). */
export const MINIO_CHANGING_CALLS: ReadonlySet<string> = new Set([
  'PutBucket',
  'DeleteBucket',
  'ForceDeleteBucket',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'PutBucketVersioning',
  'PutBucketEncryption',
  'DeleteBucketEncryption',
  'PutBucketObjectLockConfig',
  'PutBucketQuotaConfig',
  'SetBucketQuota',
]);

const auditEntrySchema = z.looseObject({
  time: z.string().max(64).optional(),
  api: z.looseObject({
    name: z.string().max(128),
    bucket: z.string().max(1024).optional(),
    statusCode: z.number().int().optional(),
  }),
  requestQuery: z.record(z.string(), z.unknown()).optional(),
  accessKey: z.string().max(256).optional(),
  remotehost: z.string().max(256).optional(),
  userAgent: z.string().max(2048).optional(),
  parentUser: z.string().max(256).optional(),
});

/**
 * One audit webhook delivery: one entry (batch_size 1, the default), a JSON array of them, or one per
 * line. Events only for successful calls that change a bucket; a throw when it holds no audit entry.
 */
export function parseMinioAudit(body: string, store: string | undefined, now: () => Date): ChangeEvent[] {
  const entries = auditEntries(body);
  const events: ChangeEvent[] = [];
  for (const raw of entries) {
    const parsed = auditEntrySchema.safeParse(raw);
    if (!parsed.success) throw new MalformedEventError('not a MinIO audit entry');
    const { api, requestQuery, time, accessKey, remotehost, userAgent, parentUser } = parsed.data;
    if (!MINIO_CHANGING_CALLS.has(api.name)) continue;
    if (api.statusCode !== undefined && !(api.statusCode >= 200 && api.statusCode < 300)) continue;
    const fromQuery = requestQuery?.bucket;
    const name = api.bucket || (typeof fromQuery === 'string' ? fromQuery : '');
    if (!name) continue;
    const actor = actorOf({ user: parentUser, accessKey, remoteAddress: remotehost, userAgent });
    events.push(event('minio-audit', api.name, name, store, time, now, actor));
  }
  return events;
}

const recordSchema = z.looseObject({
  eventName: z.string().max(128),
  eventTime: z.string().max(64).optional(),
  s3: z.looseObject({ bucket: z.looseObject({ name: z.string().max(1024) }) }),
  userIdentity: z.looseObject({ principalId: z.string().max(256).optional() }).optional(),
  source: z
    .looseObject({ host: z.string().max(256).optional(), userAgent: z.string().max(2048).optional() })
    .optional(),
});
const notificationSchema = z.looseObject({ Records: z.array(z.unknown()).max(10_000).nullable() });

/** One line of the ListenNotification stream: its bucket events; none for a keep-alive or a ping. */
export function parseMinioNotification(line: string, store: string, now: () => Date): ChangeEvent[] {
  const text = line.trim();
  if (!text) return [];
  const notification = parseJson(
    notificationSchema,
    text,
    (problem, cause) =>
      new MalformedEventError(problem.kind === 'not-json' ? 'not JSON' : 'not a MinIO notification', {
        cause,
      }),
  );
  return (notification.Records ?? []).flatMap((r) => {
    const record = recordSchema.safeParse(r);
    if (!record.success) throw new MalformedEventError('not a MinIO event record');
    const { eventName, eventTime, s3, userIdentity, source } = record.data;
    if (!/^s3:Bucket(Created|Removed):/.test(eventName)) return [];
    const actor = actorOf({
      accessKey: userIdentity?.principalId,
      remoteAddress: source?.host,
      userAgent: source?.userAgent,
    });
    return [event('minio-listen', eventName, s3.bucket.name, store, eventTime, now, actor)];
  });
}

function auditEntries(body: string): unknown[] {
  const text = body.trim();
  try {
    const whole: unknown = JSON.parse(text);
    return Array.isArray(whole) ? whole : [whole];
  } catch {
    // One entry per line (a batch).
  }
  try {
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
  } catch {
    throw new MalformedEventError('not JSON');
  }
}

function event(
  source: 'minio-audit' | 'minio-listen',
  type: string,
  name: string,
  store: string | undefined,
  time: string | undefined,
  now: () => Date,
  actor: { actor?: EventActor },
): ChangeEvent {
  const problem = bucketNameProblem(name);
  if (problem) throw new MalformedEventError(`bucket name ${problem}`);
  const at = time ? new Date(time) : now();
  return {
    source,
    type,
    status: 'Completed',
    at: Number.isNaN(at.getTime()) ? now() : at,
    target: { kind: 'bucket', name, ...(store ? { store } : {}) },
    failed: false,
    ...actor,
  };
}
