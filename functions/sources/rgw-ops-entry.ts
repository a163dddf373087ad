// One line of Ceph RGW's ops log (rgw_ops_log_file_path; src/rgw/rgw_log.cc) read into a change
// event, or dropped. Pure. A busy RGW logs every object GET and PUT, so the operation is picked out
// of the raw text first and only the few operations that change what the rules compare are parsed
// as JSON. An entry only says which bucket to look at again: never a verdict.
import * as z from 'zod';
import { bucketNameProblem } from '../core/bucket-name.js';
import type { ChangeEvent } from './cloudstack-event.js';
import { MalformedEventError, actorOf } from './cloudstack-event.js';
import { parseJson } from '../core/validation.js';

/**
 * Operations that change a bucket's existence or an attribute the rules compare (names as RGW
 * logs them, rgw_op.h `name()`): create and delete, policy, ACL, versioning, encryption, object lock.
 */
export const RGW_CHANGING_OPERATIONS: ReadonlySet<string> = new Set([
  'create_bucket',
  'delete_bucket',
  'put_bucket_policy',
  'delete_bucket_policy',
  'put_acls',
  'set_bucket_versioning',
  'put_bucket_encryption',
  'delete_bucket_encryption',
  'put_bucket_object_lock',
]);

const OPERATION_KEY = '"operation":"';

const entrySchema = z.looseObject({
  bucket: z.string().max(600),
  time: z.string().max(64),
  operation: z.string().max(64),
  uri: z.string().max(8192).optional(),
  http_status: z.union([z.string().max(8), z.number()]),
  user: z.string().max(512).optional(),
  remote_addr: z.string().max(256).optional(),
  user_agent: z.string().max(2048).optional(),
  access_key_id: z.string().max(256).optional(),
});

/** The operation named in a raw line, without parsing it: undefined when the line names none. */
export function operationOf(line: string): string | undefined {
  const at = line.indexOf(OPERATION_KEY);
  if (at < 0) return undefined;
  const start = at + OPERATION_KEY.length;
  const end = line.indexOf('"', start);
  return end < 0 ? undefined : line.slice(start, end);
}

/**
 * One ops log line: a change event for its bucket, null when it changes nothing the rules compare
 * (an object operation, a read, a failed call), or a throw for a line that is not an ops log entry.
 */
export function parseOpsLogLine(line: string, store: string, now: () => Date): ChangeEvent | null {
  const operation = operationOf(line);
  if (operation !== undefined && !RGW_CHANGING_OPERATIONS.has(operation)) return null; // the cheap path
  const entry = parseJson(
    entrySchema,
    line,
    (problem, cause) =>
      new MalformedEventError(problem.kind === 'not-json' ? 'not JSON' : 'not an RGW ops log entry', {
        cause,
      }),
  );
  if (!RGW_CHANGING_OPERATIONS.has(entry.operation)) return null;
  const status = Number(entry.http_status);
  if (!(status >= 200 && status < 300)) return null; // an error changed nothing
  // An ACL on an object changes no bucket setting: only `PUT /bucket?acl` counts.
  if (entry.operation === 'put_acls' && !isBucketLevel(entry.uri, entry.bucket)) return null;
  // A tenanted bucket is logged `tenant/bucket`; RGW's admin API and listings name it `tenant:bucket`.
  const name = entry.bucket.replace('/', ':');
  const problem = bucketNameProblem(name);
  if (problem) throw new MalformedEventError(`bucket name ${problem}`);
  const at = new Date(entry.time);
  return {
    source: 'ops-log',
    type: entry.operation,
    status: 'Completed',
    at: Number.isNaN(at.getTime()) ? now() : at,
    target: { kind: 'bucket', name, store },
    failed: false,
    ...actorOf({
      user: entry.user,
      accessKey: entry.access_key_id,
      remoteAddress: entry.remote_addr,
      userAgent: entry.user_agent,
    }),
  };
}

/** `PUT /bucket?acl…` or `PUT /bucket/?acl…`: the request names no object. */
function isBucketLevel(uri: string | undefined, bucket: string): boolean {
  const path = /^\S+ (\S+)/.exec(uri ?? '')?.[1]?.split('?')[0] ?? '';
  const name = bucket.includes('/') ? bucket.slice(bucket.indexOf('/') + 1) : bucket;
  return path === `/${name}` || path === `/${name}/` || path === '/' || path === '';
}
