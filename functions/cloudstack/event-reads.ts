// The watcher's reads of the CloudStack database: which bucket an event names (events carry a uuid
// or an id, never a name and store), and the bucket and object store rows of `cloud.event` since a
// cursor. Read-only, like every read of csdrift; needs SELECT on cloud.event for the poller.
import { createPool } from 'mysql2/promise';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { DbUrl } from './db-url.js';
import { connectionOptions } from './inventory.js';

/** A row of cloud.event, as the poller reads it. */
export interface EventRow {
  id: number;
  uuid: string | null;
  type: string;
  state: string;
  description: string;
  resourceId: number | null;
  resourceType: string | null;
  /** UTC, as CloudStack writes it. */
  created: Date;
  /** INFO or ERROR (a failed call). */
  level?: string;
  /** The calling account's name (account.account_name by event.account_id): who did it. */
  accountName?: string;
}

/** A bucket row's identity: what a targeted audit needs to ask about it. */
export interface BucketIdentity {
  id: number;
  uuid: string | null;
  name: string;
  storeId: string;
  /** The store's name, for what the watcher says (null when the row names no store there is). */
  storeName?: string | null;
}

const EVENT_TYPES = "(e.type LIKE 'BUCKET.%' OR e.type LIKE 'OBJECT.STORE.%')";
/** An event row with its account's name (the table holds only ids): the actor of a cause. */
const EVENT_COLUMNS = `e.id, e.uuid, e.type, e.state, e.description, e.resource_id AS resourceId,
  e.resource_type AS resourceType, e.created, e.level, a.account_name AS accountName`;

export class CloudStackEventReads {
  private readonly pool: Pool;

  constructor(db: DbUrl) {
    this.pool = createPool({ ...connectionOptions(db), connectionLimit: 2 });
  }

  /** The rows (active or removed) with these uuids or ids. Never selects a key. */
  async bucketsByIdentity(uuids: string[], ids: number[]): Promise<BucketIdentity[]> {
    if (!uuids.length && !ids.length) return [];
    const where = [...(uuids.length ? ['b.uuid IN (?)'] : []), ...(ids.length ? ['b.id IN (?)'] : [])].join(
      ' OR ',
    );
    const [rows] = await this.pool.query<RowDataPacket[]>({
      // The same reading of the varchar store id as the inventory's: only a whole number names a store.
      sql: `SELECT b.id, b.uuid, b.name, b.object_store_id AS storeId, s.name AS storeName
              FROM bucket b
              LEFT JOIN object_store s ON b.object_store_id REGEXP '^[0-9]+$' AND s.id = CAST(b.object_store_id AS UNSIGNED)
             WHERE ${where}`,
      values: [...(uuids.length ? [uuids] : []), ...(ids.length ? [ids] : [])],
      timeout: 30_000,
    });
    return rows.map((r) => ({
      id: Number(r.id),
      uuid: r.uuid === null ? null : String(r.uuid),
      name: String(r.name),
      storeId: String(r.storeId ?? ''),
      storeName: r.storeName === null || r.storeName === undefined ? null : String(r.storeName),
    }));
  }

  /** The newest event's id: where a poller with no cursor starts (the nightly audit covers the past). */
  async latestEventId(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>({
      sql: 'SELECT COALESCE(MAX(id), 0) AS id FROM event',
      timeout: 30_000,
    });
    return Number(rows[0]?.id ?? 0);
  }

  /** Bucket and object store events after `afterId`, oldest first. */
  async eventsSince(afterId: number, limit: number): Promise<EventRow[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>({
      sql: `SELECT ${EVENT_COLUMNS} FROM event e LEFT JOIN account a ON a.id = e.account_id
             WHERE e.id > ? AND ${EVENT_TYPES} ORDER BY e.id LIMIT ?`,
      values: [afterId, limit],
      timeout: 30_000,
    });
    return rows.map(toEventRow);
  }

  /** The bucket and object store events with these ids that exist now (committed late), oldest first. */
  async eventsByIds(ids: number[]): Promise<EventRow[]> {
    if (!ids.length) return [];
    const [rows] = await this.pool.query<RowDataPacket[]>({
      sql: `SELECT ${EVENT_COLUMNS} FROM event e LEFT JOIN account a ON a.id = e.account_id
             WHERE e.id IN (?) AND ${EVENT_TYPES} ORDER BY e.id`,
      values: [ids],
      timeout: 30_000,
    });
    return rows.map(toEventRow);
  }

  /** Which ids in (afterId, upTo] exist now, of any type: the rest are not committed (yet). */
  async eventIdsBetween(afterId: number, upTo: number): Promise<number[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>({
      sql: 'SELECT id FROM event WHERE id > ? AND id <= ?',
      values: [afterId, upTo],
      timeout: 30_000,
    });
    return rows.map((r) => Number(r.id));
  }

  /** Which of these ids exist now, of any type. */
  async existingEventIds(ids: number[]): Promise<number[]> {
    if (!ids.length) return [];
    const [rows] = await this.pool.query<RowDataPacket[]>({
      sql: 'SELECT id FROM event WHERE id IN (?)',
      values: [ids],
      timeout: 30_000,
    });
    return rows.map((r) => Number(r.id));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function toEventRow(r: RowDataPacket): EventRow {
  return {
    id: Number(r.id),
    uuid: r.uuid === null ? null : String(r.uuid),
    type: String(r.type),
    state: String(r.state),
    description: String(r.description ?? ''),
    resourceId: r.resourceId === null ? null : Number(r.resourceId),
    resourceType: r.resourceType === null ? null : String(r.resourceType),
    created: r.created instanceof Date ? r.created : new Date(String(r.created)),
    ...(r.level !== null && r.level !== undefined ? { level: String(r.level) } : {}),
    ...(r.accountName !== null && r.accountName !== undefined ? { accountName: String(r.accountName) } : {}),
  };
}
