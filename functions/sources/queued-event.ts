// A change event as it travels through SQS between the AWS events path's functions (the webhook
// endpoint and the event-table poller produce it, the event audit function consumes it). Checked on
// the way in like any other input.
import * as z from 'zod';
import type { ChangeEvent } from './cloudstack-event.js';

const targetSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('bucket'),
    uuid: z.string().max(64).optional(),
    id: z.number().int().nonnegative().optional(),
    name: z.string().max(512).optional(),
    store: z.string().max(255).optional(),
  }),
  z.strictObject({
    kind: z.literal('store'),
    uuid: z.string().max(64).optional(),
    id: z.number().int().nonnegative().optional(),
  }),
]);

export const queuedEventSchema = z.strictObject({
  source: z.enum(['amqp', 'webhook', 'event-table', 'ops-log', 'minio-audit', 'minio-listen']),
  type: z.string().max(64),
  status: z.string().max(32),
  at: z.iso.datetime({ offset: true }),
  target: targetSchema,
  failed: z.boolean(),
  eventId: z.string().max(64).optional(),
  actor: z
    .strictObject({
      user: z.string().max(256).optional(),
      accessKey: z.string().max(256).optional(),
      account: z.string().max(256).optional(),
      remoteAddress: z.string().max(256).optional(),
      userAgent: z.string().max(256).optional(),
    })
    .optional(),
});

export function toQueueMessage(event: ChangeEvent): string {
  return JSON.stringify({ ...event, at: event.at.toISOString() });
}

/** A queue message back as a ChangeEvent; throws (with zod's issue) for anything else. */
export function fromQueueMessage(body: string): ChangeEvent {
  return fromQueued(JSON.parse(body));
}

/** A queue message already parsed from JSON (one of a spooled array) back as a ChangeEvent. */
export function fromQueued(value: unknown): ChangeEvent {
  const parsed = queuedEventSchema.parse(value);
  return { ...parsed, at: new Date(parsed.at) } as ChangeEvent;
}
