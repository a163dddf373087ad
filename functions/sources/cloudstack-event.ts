// CloudStack's change events, as its event bus, its webhooks and its `event` table carry them, read
// into one shape. Pure. An event only names what to look at again: nothing here is a verdict.
//
// The bus body is Gson of a HashMap<String,String> (ActionEventUtils.publishOnEventBus): keys `event`,
// `status`, `entity`, `entityuuid`, `description`, `eventDateTime` (`yyyy-MM-dd HH:mm:ss Z`), with
// nulls left out. It has no bucket name and no numeric id: the uuid is looked up in the database.
import * as z from 'zod';
import type { EventRow } from '../cloudstack/event-reads.js';
import type { Actor } from '../core/model.js';
import { parseJson } from '../core/validation.js';

/** The event types that can change what the auditor compares (api/.../EventTypes.java). */
export const BUCKET_EVENTS = ['BUCKET.CREATE', 'BUCKET.DELETE', 'BUCKET.UPDATE'] as const;
export const STORE_EVENTS = ['OBJECT.STORE.CREATE', 'OBJECT.STORE.DELETE', 'OBJECT.STORE.UPDATE'] as const;

/**
 * RabbitMQ binding keys for those events. CloudStack routes `source.category.type.resourceType.uuid`
 * with `.` in each part turned to `-` (RabbitMQEventBus.java): bound by type, whatever the rest.
 */
export const AMQP_BINDING_KEYS = [...BUCKET_EVENTS, ...STORE_EVENTS].map(
  (type) => `*.ActionEvent.${type.replace(/\./g, '-')}.*.*`,
);

/** CloudStack's own (its bus, webhooks, event table) and the stores' change feeds. */
export type EventSource = 'amqp' | 'webhook' | 'event-table' | 'ops-log' | 'minio-audit' | 'minio-listen';

/**
 * What to look at again: a bucket (by uuid, id or name) or a whole store. A store's own feed names
 * a bucket by name and says which store (uuid, id or name) it came from; without `store`, a bucket
 * named only by name is looked at on every store.
 */
export type EventTarget =
  | { kind: 'bucket'; uuid?: string; id?: number; name?: string; store?: string }
  | { kind: 'store'; uuid?: string; id?: number };

/**
 * Who made the change, as the source tells it (never a secret: key ids, not keys): RGW's ops log
 * (user, remote address, user agent, access key id), MinIO's audit (access key, remote host, user
 * agent) and notifications (principal, source host, user agent), CloudStack's bus (the calling
 * user's and account's uuids). Each value is a third party's text, capped and shown escaped.
 */
export type EventActor = Actor;

/**
 * `{ actor }` with the fields a source gave that hold something, each capped at 256 characters;
 * `{}` when none does: spread into an event.
 */
export function actorOf(fields: Partial<Record<keyof EventActor, unknown>>): { actor?: EventActor } {
  const actor: EventActor = {};
  for (const [key, value] of Object.entries(fields) as [keyof EventActor, unknown][])
    if (typeof value === 'string' && value.trim() && value !== '-') actor[key] = value.trim().slice(0, 256);
  return Object.keys(actor).length ? { actor } : {};
}

export interface ChangeEvent {
  source: EventSource;
  type: string;
  status: string;
  /** When the change happened, by CloudStack's clock. */
  at: Date;
  target: EventTarget;
  /** `Error while …`: the call failed (the seed case: a delete refused by the store). */
  failed: boolean;
  /** The cloud.event id or uuid, where the source gives one: for logs and the cursor. */
  eventId?: string;
  /** Who made the change, where the source says. */
  actor?: EventActor;
}

/** A message that is not a CloudStack event at all, or not one we can read: logged and dropped. */
import { MalformedEventError } from '../core/errors.js';

export { MalformedEventError } from '../core/errors.js';

const UUID = /^[0-9a-fA-F-]{8,64}$/;

const busMessageSchema = z.looseObject({
  event: z.string().min(1).max(64),
  status: z.string().max(32).optional(),
  entity: z.string().max(64).optional(),
  entityuuid: z.string().max(64).optional(),
  Bucket: z.string().max(64).optional(),
  description: z.string().max(4096).optional(),
  eventDateTime: z.string().max(64).optional(),
  user: z.string().max(64).optional(),
  account: z.string().max(64).optional(),
});

/** The bus's JSON body (RabbitMQ, webhooks): a ChangeEvent, null for an event of no interest, or a throw. */
export function parseBusMessage(body: string, source: EventSource, now: () => Date): ChangeEvent | null {
  const m = parseJson(
    busMessageSchema,
    body,
    (problem, cause) =>
      new MalformedEventError(
        problem.kind === 'not-json' ? 'not JSON' : `not a CloudStack event (${problem.detail})`,
        { cause },
      ),
  );
  const uuid = m.entityuuid ?? m.Bucket;
  const target = targetOf(m.event, { ...(uuid ? { uuid } : {}) }, m.description);
  if (!target) return null;
  return {
    source,
    type: m.event,
    status: m.status ?? 'Completed',
    at: parseEventDateTime(m.eventDateTime) ?? now(),
    target,
    failed: isFailure(m.description),
    ...actorOf({ user: m.user, account: m.account }),
  };
}

export function fromEventRow(row: EventRow): ChangeEvent | null {
  // MariaDB's default sql_mode takes '0000-00-00 00:00:00', which reads back as no date at all.
  if (!(row.created instanceof Date) || Number.isNaN(row.created.getTime()))
    throw new MalformedEventError('an impossible created date');
  const target = targetOf(row.type, row.resourceId !== null ? { id: row.resourceId } : {}, row.description);
  if (!target) return null;
  return {
    source: 'event-table',
    type: row.type,
    status: row.state,
    at: row.created,
    target,
    // The table says a failure twice: its description and its level (ERROR); both must agree.
    failed: isFailure(row.description) && (row.level === undefined || row.level === 'ERROR'),
    eventId: String(row.id),
    ...actorOf({ account: row.accountName }),
  };
}

/**
 * Whether the event calls for a look: only a finished call (`Completed`) changes anything, and the
 * other states of one createBucket (Created, Scheduled, Started) are followed by it.
 */
export function worthAuditing(event: ChangeEvent): boolean {
  return event.status === 'Completed';
}

function targetOf(
  type: string,
  ids: { uuid?: string; id?: number },
  description: string | undefined,
): EventTarget | null {
  const uuid = ids.uuid ?? bucketIdIn(description);
  const cleanUuid = uuid && UUID.test(uuid) ? uuid : undefined;
  if ((BUCKET_EVENTS as readonly string[]).includes(type)) {
    // createBucket's Scheduled event names the bucket only by name: `creating bucket: <name>`.
    const name = /^creating bucket: (.+)$/.exec(description ?? '')?.[1];
    if (!cleanUuid && ids.id === undefined && !name) throw new MalformedEventError(`${type} names no bucket`);
    return {
      kind: 'bucket',
      ...(cleanUuid ? { uuid: cleanUuid } : {}),
      ...(ids.id !== undefined ? { id: ids.id } : {}),
      ...(name ? { name } : {}),
    };
  }
  if ((STORE_EVENTS as readonly string[]).includes(type)) {
    return {
      kind: 'store',
      ...(cleanUuid ? { uuid: cleanUuid } : {}),
      ...(ids.id !== undefined ? { id: ids.id } : {}),
    };
  }
  return null;
}

/** `… Bucket Id: <uuid>` (ActionEventInterceptor writes `<description>. <details>`). */
function bucketIdIn(description: string | undefined): string | undefined {
  return /Bucket Id: ([0-9a-fA-F-]{8,64})\s*$/.exec(description ?? '')?.[1];
}

/**
 * The seed case's trigger: the owner's deleteBucket failed (`Error while deleting bucket`, from
 * BucketApiServiceImpl via ActionEventInterceptor). Only an audit that then finds the bucket missing
 * in the store may act on it.
 */
export function isFailedDelete(event: ChangeEvent): boolean {
  return event.type === 'BUCKET.DELETE' && event.failed && event.target.kind === 'bucket';
}

function isFailure(description: string | undefined): boolean {
  return /^Error while /.test(description ?? '');
}

/** `2025-02-11 14:03:27 +0000` (`yyyy-MM-dd HH:mm:ss Z`, the JVM's zone); undefined if it is not that. */
export function parseEventDateTime(text: string | undefined): Date | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-])(\d\d)(\d\d)$/.exec(text ?? '');
  if (!m) return undefined;
  const at = new Date(`${m[1]}T${m[2]}${m[3]}${m[4]}:${m[5]}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * A bus body (RabbitMQ or a webhook) as a source hands it over: the event, or null after telling the
 * source's context why it was dropped (malformed, or of no interest to an audit).
 */
export function parseBody(
  ctx: { dropped(reason: 'malformed' | 'not-relevant', why?: string): void },
  body: string,
  source: EventSource,
): ChangeEvent | null {
  try {
    const event = parseBusMessage(body, source, () => new Date());
    if (!event) ctx.dropped('not-relevant');
    return event;
  } catch (err) {
    ctx.dropped('malformed', err instanceof MalformedEventError ? err.message : 'not a bus message');
    return null;
  }
}
