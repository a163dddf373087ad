// One consistent, read-only read of the CloudStack management database.
import { createConnection } from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  CsdriftError,
  DatabaseUnreachableError,
  InvalidInputError,
  SchemaMismatchError,
} from '../core/errors.js';
import type {
  AccountRecord,
  CloudStackInventory,
  CloudStackSchema,
  DbBucket,
  StoreRecord,
} from '../core/model.js';
import type { DbUrl } from './db-url.js';
import type { BucketRowFilter } from './bucket-rows.js';
import {
  NO_STORE,
  inIdOrder,
  numberOrNull,
  readBucketRows,
  storeIdOf,
  SharedValues,
  streamBucketRows,
  whereOf,
} from './bucket-rows.js';
import { detectSchema } from './schema-shape.js';
import { safeEndpoint } from '../core/endpoint.js';

export interface InventoryOptions {
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /**
   * The run's stores out of every store in object_store (overrides applied, scope chosen); only
   * their bucket rows are read, so a scan of one store never reads the whole bucket table.
   */
  scope?: (stores: StoreRecord[]) => StoreRecord[];
  /** A targeted audit: only these buckets' rows (active and removed) are read. */
  buckets?: string[];
  /**
   * Where the rows of each store go as they stream in, told first how many each store has (by store
   * id): a store of a million rows is never one list. Without it they are the inventory's `buckets`.
   */
  rows?: (counts: ReadonlyMap<number, number>) => (row: DbBucket) => void;
  /** Only how many rows each store has (by store id): no row is read (the fan-out's shard manifest). */
  countsOnly?: (counts: ReadonlyMap<number, number>) => void;
}

/** Rows naming no store: reported by count and the first few ids, never judged. */
const STRAY_IDS = 20;

const RECHECK_CHUNK = 1000;

export async function loadCloudStackInventory(
  db: DbUrl,
  options: InventoryOptions = {},
): Promise<CloudStackInventory> {
  const conn = await connect(db, options.connectTimeoutMs ?? 10_000);
  const timeout = options.queryTimeoutMs ?? 60_000;
  try {
    const schema = await detectSchema(conn, db.database, timeout);
    // Stores, details and buckets must describe one instant, or a bucket created mid-read looks orphaned.
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const readAt = new Date().toISOString();
    const all = await readStores(conn, schema, timeout);
    const stores = options.scope ? options.scope(all) : all;
    const narrowed = stores.length < all.length;
    const filter = {
      ...(narrowed ? { storeIds: stores.map((s) => s.id) } : {}),
      ...(options.buckets?.length ? { names: [...new Set(options.buckets)] } : {}),
    };
    const buckets: DbBucket[] = [];
    const strays = { count: 0, bucketIds: [] as number[] };
    if (options.countsOnly) {
      options.countsOnly(await countRows(conn, timeout, filter));
      await conn.query('COMMIT');
      return { schema, database: db.database, readAt, stores, buckets };
    }
    const sink = options.rows?.(await countRows(conn, timeout, filter)) ?? ((row) => buckets.push(row));
    const take = (row: DbBucket) => {
      if (row.storeId !== NO_STORE) return sink(row);
      strays.count += 1;
      if (strays.bucketIds.length < STRAY_IDS) strays.bucketIds.push(row.id);
    };
    const shared = new SharedValues();
    const billingUnreadable = await streamRowsBilled(conn, timeout, filter, take, shared);
    // Whose store users are whose: every account, for the key rules of a full run.
    const accounts = options.buckets?.length ? undefined : await readAccounts(conn, timeout, shared);
    await conn.query('COMMIT');
    return {
      schema,
      database: db.database,
      readAt,
      stores,
      buckets: buckets.length > 1 && !inIdOrder(buckets) ? buckets.sort((x, y) => x.id - y.id) : buckets,
      ...(strays.count ? { rowsWithoutStore: strays } : {}),
      ...(billingUnreadable ? { billingUnreadable } : {}),
      ...(accounts ? { accounts } : {}),
    };
  } catch (err) {
    throw asInventoryError(err, db);
  } finally {
    conn.destroy();
  }
}

/**
 * Every account by uuid and name, removed ones included (`removed` set, or state `removed`). An
 * account that owns rows shares its owner record's uuid and name: ten thousand accounts are held
 * for the whole audit, and a second copy of each uuid would be a megabyte more.
 */
async function readAccounts(
  conn: Connection,
  timeout: number,
  shared: SharedValues,
): Promise<AccountRecord[]> {
  const [rows] = await conn.query<RowDataPacket[]>({
    sql: `SELECT id, uuid, account_name AS name, (removed IS NOT NULL OR LOWER(state) = 'removed') AS removed
            FROM account WHERE uuid IS NOT NULL`,
    timeout,
  });
  return rows.map((r) => {
    const owner = shared.ownerOf(r.id);
    const uuid = String(r.uuid);
    const name = r.name === null ? '' : String(r.name);
    return {
      uuid: owner?.accountUuid === uuid ? owner.accountUuid : uuid,
      name: owner?.accountName === name ? owner.accountName : name,
      removed: Boolean(Number(r.removed)),
    };
  });
}

/**
 * The rows, each with what the usage server bills for it (bucket_statistics sizes above 0). A user
 * without SELECT on that table (an older csdrift's grants) is no error: the rows are read without,
 * and the billing rules say why they do not apply (the returned reason).
 */
async function streamRowsBilled(
  conn: Connection,
  timeout: number,
  filter: BucketRowFilter,
  onRow: (row: DbBucket) => void,
  shared: SharedValues,
): Promise<string | undefined> {
  try {
    await streamBucketRows(conn, timeout, filter, onRow, { billing: true, shared });
    return undefined;
  } catch (err) {
    // The server refuses the statement before its first row: nothing was handed on yet.
    const code = (err as { code?: string }).code;
    if (code !== 'ER_TABLEACCESS_DENIED_ERROR' && code !== 'ER_NO_SUCH_TABLE') throw err;
    await streamBucketRows(conn, timeout, filter, onRow, { shared });
    return code === 'ER_NO_SUCH_TABLE'
      ? 'this CloudStack database has no bucket_statistics table'
      : 'the database user may not read bucket_statistics (GRANT SELECT ON cloud.bucket_statistics)';
  }
}

/** How many rows each store has (by store id), in the same snapshot as the rows that follow. */
async function countRows(
  conn: Connection,
  timeout: number,
  filter: BucketRowFilter,
): Promise<Map<number, number>> {
  const { where, values } = whereOf(filter);
  const [rows] = await conn.query<RowDataPacket[]>({
    sql: `SELECT object_store_id AS store, COUNT(*) AS n FROM bucket
           ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY object_store_id`,
    values,
    timeout,
  });
  const counts = new Map<number, number>();
  for (const r of rows) {
    const id = storeIdOf(r.store);
    counts.set(id, (counts.get(id) ?? 0) + Number(r.n));
  }
  return counts;
}

/** Every object store (with what reaching it takes), alone: the watcher's stores' feeds start from it. */
export async function loadStores(db: DbUrl, connectTimeoutMs = 10_000): Promise<StoreRecord[]> {
  const conn = await connect(db, connectTimeoutMs);
  try {
    return await readStores(conn, await detectSchema(conn, db.database, 30_000), 30_000);
  } catch (err) {
    throw asInventoryError(err, db);
  } finally {
    conn.destroy();
  }
}

/** How every csdrift connection to the CloudStack database is made (single ones and pools alike). */
export function connectionOptions(db: DbUrl, connectTimeout = 10_000) {
  return {
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    connectTimeout,
    timezone: 'Z', // CloudStack keeps its datetimes in UTC
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  };
}

async function connect(db: DbUrl, connectTimeout: number): Promise<Connection> {
  try {
    return await createConnection(connectionOptions(db, connectTimeout));
  } catch (err) {
    throw asInventoryError(err, db);
  }
}

async function readStores(
  conn: Connection,
  schema: CloudStackSchema,
  timeout: number,
): Promise<StoreRecord[]> {
  const used = schema === '4.21' ? 'used_size' : 'used_bytes';
  const allocated = schema === '4.21' ? 'allocated_size' : 'NULL';
  const [stores] = await conn.query<RowDataPacket[]>({
    sql: `SELECT id, uuid, name, object_provider_name AS provider, url, total_size AS totalSize,
                 ${used} AS usedBytes, ${allocated} AS allocatedSize
            FROM object_store WHERE removed IS NULL ORDER BY id`,
    timeout,
  });
  // Only what is needed to reach the store; per-account keys are read by the adapters that need them.
  const [details] = await conn.query<RowDataPacket[]>({
    sql: `SELECT store_id AS storeId, name, value FROM object_store_details
           WHERE name IN ('accesskey', 'secretkey', 's3Url')`,
    timeout,
  });
  return stores.map((s) => {
    const mine = new Map(
      details.filter((d) => Number(d.storeId) === Number(s.id)).map((d) => [String(d.name), String(d.value)]),
    );
    const accessKey = mine.get('accesskey');
    const secretKey = mine.get('secretkey');
    const provider = String(s.provider);
    return {
      id: Number(s.id),
      uuid: String(s.uuid ?? s.id),
      name: String(s.name),
      provider,
      endpoint: safeEndpoint(
        provider === 'Cloudian HyperStore' && mine.get('s3Url')
          ? String(mine.get('s3Url'))
          : String(s.url ?? ''),
      ),
      recordedUrl: safeEndpoint(String(s.url ?? '')),
      credentials: accessKey && secretKey ? { accessKey, secretKey } : null,
      skip: false,
      usedBytes: numberOrNull(s.usedBytes),
      allocatedSize: numberOrNull(s.allocatedSize),
      totalSize: numberOrNull(s.totalSize),
    };
  });
}

/**
 * The second read of core/recheck.ts: the rows behind drift candidates, read after the scan, in a
 * connection of its own. No candidates, no connection.
 */
export async function recheckBucketRows(
  db: DbUrl,
  names: string[],
  options: InventoryOptions = {},
): Promise<DbBucket[]> {
  if (!names.length) return [];
  const conn = await connect(db, options.connectTimeoutMs ?? 10_000);
  try {
    const unique = [...new Set(names)];
    const rows: DbBucket[] = [];
    for (let i = 0; i < unique.length; i += RECHECK_CHUNK) {
      rows.push(
        ...(await readBucketRows(conn, options.queryTimeoutMs ?? 60_000, {
          names: unique.slice(i, i + RECHECK_CHUNK),
        })),
      );
    }
    return rows;
  } catch (err) {
    throw asInventoryError(err, db);
  } finally {
    conn.destroy();
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNRESET',
  'PROTOCOL_CONNECTION_LOST',
  'EAI_AGAIN',
]);

/** mysql2's errors become one line a person can act on; the password is never part of it. */
function asInventoryError(err: unknown, db: DbUrl): Error {
  if (err instanceof CsdriftError) return err;
  const e = err as { code?: string; message?: string; fatal?: boolean };
  const code = e.code ?? '';
  if (UNREACHABLE.has(code) || /timeout/i.test(e.message ?? '')) {
    return new DatabaseUnreachableError(
      db.host,
      db.port,
      code ? `${code} (${e.message ?? 'no detail'})` : 'connection timed out',
      { cause: err },
    );
  }
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return new DatabaseUnreachableError(db.host, db.port, `access denied for user "${db.user}"`, {
      cause: err,
    });
  }
  if (code === 'ER_BAD_DB_ERROR')
    return new InvalidInputError(`--db: database "${db.database}" does not exist on ${db.host}:${db.port}`, {
      cause: err,
    });
  if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_FIELD_ERROR') {
    return new SchemaMismatchError(
      `database "${db.database}" does not have the CloudStack schema: ${e.message}`,
      { cause: err },
    );
  }
  return new DatabaseUnreachableError(
    db.host,
    db.port,
    `${code ? code + ': ' : ''}${e.message ?? String(err)}`,
    { cause: err },
  );
}
