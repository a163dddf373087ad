// CloudStack's change events as the management server produces them, for the watcher's tests.
// Shapes from ../shared/cloudstack/FACTS.md ("Change events"): the bus body is Gson of a
// HashMap<String,String> (ActionEventUtils.publishOnEventBus); RabbitMQ routes it on a durable topic
// exchange with key `source.category.type.resourceType.uuid` (RabbitMQEventBus.java), persistent
// text/plain; webhooks POST the same body with X-CS-Signature (WebhookDeliveryThread.java); the
// `event` row is what ActionEventUtils persists.
import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';
import type { Connection } from 'mysql2/promise';
import { webhookSignature } from '../../functions/sources/webhook-signature.js';

export const AMQP_URL = process.env.CSDRIFT_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/';

export interface BucketEvent {
  type: 'BUCKET.CREATE' | 'BUCKET.DELETE' | 'BUCKET.UPDATE';
  bucketUuid: string;
  failed?: boolean;
  at?: Date;
}

const VERB = { 'BUCKET.CREATE': 'creating', 'BUCKET.DELETE': 'deleting', 'BUCKET.UPDATE': 'updating' };

/** `yyyy-MM-dd HH:mm:ss Z`, the JVM in UTC. */
function eventDateTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
}

export function description(e: BucketEvent): string {
  const verb = VERB[e.type];
  return e.failed
    ? `Error while ${verb} bucket. Bucket Id: ${e.bucketUuid}`
    : `Successfully completed ${verb} bucket. Bucket Id: ${e.bucketUuid}`;
}

/** The bus body, keys in a HashMap's order (not alphabetical), as FACTS.md's worked example. */
export function busBody(e: BucketEvent): string {
  return JSON.stringify({
    eventDateTime: eventDateTime(e.at ?? new Date()),
    entityuuid: e.bucketUuid,
    Bucket: e.bucketUuid,
    description: description(e),
    event: e.type,
    user: '7c2b0f9e-3d1a-4c55-9a7e-2f1f0c3e5b11',
    account: '5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10',
    entity: 'Bucket',
    status: 'Completed',
  });
}

export function routingKey(e: BucketEvent): string {
  return `management-server.ActionEvent.${e.type.replace(/\./g, '-')}.Bucket.${e.bucketUuid}`;
}

/** A publisher as CloudStack's: it declares the durable topic exchange on every publish. */
export class CloudStackBus {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly channel: Channel,
    readonly exchange: string,
  ) {}

  static async open(exchange: string, url = AMQP_URL): Promise<CloudStackBus> {
    const conn = await connect(url);
    conn.on('error', () => {}); // a connection the broker closes in a test is reported by its calls
    const channel = await conn.createChannel();
    channel.on('error', () => {});
    return new CloudStackBus(conn, channel, exchange);
  }

  async publish(e: BucketEvent): Promise<void> {
    await this.publishRaw(routingKey(e), busBody(e));
  }

  async publishRaw(key: string, body: string): Promise<void> {
    await this.channel.assertExchange(this.exchange, 'topic', { durable: true });
    this.channel.publish(this.exchange, key, Buffer.from(body, 'utf8'), {
      contentType: 'text/plain',
      deliveryMode: 2,
      priority: 0,
    });
  }

  /** Ready messages, and consumers, of a queue; none of either while it does not exist. */
  async queue(name: string): Promise<{ messageCount: number; consumerCount: number }> {
    // A check of a queue that does not exist closes the channel: each check has its own.
    const channel = await this.conn.createChannel();
    channel.on('error', () => {});
    try {
      return await channel.checkQueue(name);
    } catch {
      return { messageCount: 0, consumerCount: 0 };
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async deleteQueue(name: string): Promise<void> {
    const channel = await this.conn.createChannel();
    channel.on('error', () => {});
    await channel.deleteQueue(name).catch(() => {});
    await channel.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.channel.deleteExchange(this.exchange).catch(() => {});
    await this.conn.close().catch(() => {});
  }
}

/** A row of cloud.event, as the management server persists a bucket event. */
export async function insertEventRow(
  conn: Connection,
  e: BucketEvent & { bucketId: number },
): Promise<number> {
  const at = e.at ?? new Date();
  const [result] = await conn.query(
    `INSERT INTO event (uuid, type, state, description, user_id, account_id, domain_id, resource_id,
                        resource_type, created, level, start_id, parameters, archived, display)
     VALUES (?, ?, 'Completed', ?, 2, 2, 1, ?, 'Bucket', ?, ?, 0, NULL, 0, 1)`,
    [
      randomUUID(),
      e.type,
      description(e),
      e.bucketId,
      at.toISOString().slice(0, 19).replace('T', ' '),
      e.failed ? 'ERROR' : 'INFO',
    ],
  );
  return (result as { insertId: number }).insertId;
}

/** POSTs the event as a CloudStack 4.20+ webhook, signed with `secret` (or a given signature). */
export async function postWebhook(
  url: string,
  e: BucketEvent,
  secret: string,
  signature?: string,
): Promise<{ status: number; text: string }> {
  const body = busBody(e);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      'x-cs-event-id': randomUUID(),
      'x-cs-event': e.type,
      'user-agent': 'CS-Hookshot/5a3b9e2c-8f41-4d0b-b6a2-9c7e1d4f2a10',
      'x-cs-signature': signature ?? webhookSignature(secret, Buffer.from(body, 'utf8')),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}
