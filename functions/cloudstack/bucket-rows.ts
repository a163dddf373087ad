// The bucket rows of the CloudStack DB, with their owners, as the rules see them. The hot path of the
// inventory: 100,000 rows must read at the pace of a bare SELECT (bench/database.ts), so rows come as
// arrays (no object per row from mysql2) and are ordered here, not by the server.
import type { Connection as CallbackConnection } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { safeEndpoint } from '../core/endpoint.js';
import type { DbBucket, Owner } from '../core/model.js';

const PROJECT_ACCOUNT = 5;

/** The project a project account (type 5) belongs to; the live one if a removed one shares the account. */
function projectColumn(column: 'name' | 'uuid'): string {
  return `CASE WHEN a.type = ${PROJECT_ACCOUNT} THEN (SELECT p.${column} FROM projects p WHERE p.project_account_id = a.id ORDER BY p.removed IS NULL DESC, p.id DESC LIMIT 1) END`;
}

// Never bucket.secret_key. Of bucket.access_key only a MinIO user name (acs-…) as it is, and of any key
// its digest and last four characters, computed by the server: a real key id never leaves the database.
// The order is the order toDbBucket destructures each row in.
const COLUMNS = [
  'b.id',
  'b.uuid',
  'b.name',
  'b.object_store_id',
  'b.state',
  'b.created',
  'b.removed',
  'b.size',
  'b.quota',
  'b.versioning',
  'b.encryption',
  'b.object_lock',
  'b.policy',
  "CASE WHEN b.access_key LIKE 'acs-%' THEN b.access_key END",
  'a.id',
  'a.uuid',
  'a.account_name',
  'a.state',
  'a.removed',
  'd.uuid',
  'd.path',
  projectColumn('name'),
  projectColumn('uuid'),
  'b.bucket_url',
  'LEFT(SHA2(b.access_key, 256), 32)',
  'RIGHT(b.access_key, 4)',
];

const FROM = `FROM bucket b
  LEFT JOIN account a ON a.id = b.account_id
  LEFT JOIN domain d ON d.id = COALESCE(a.domain_id, b.domain_id)`;

/**
 * What the usage server bills per row: its bucket_statistics sizes above 0, joined once (the table has
 * no index on bucket_id: a derived table the server materialises, not a subquery per row).
 */
const BILLED_JOIN = `LEFT JOIN (SELECT bucket_id, SUM(size) AS bytes FROM bucket_statistics WHERE size > 0
  GROUP BY bucket_id) bs ON bs.bucket_id = b.id`;

function select(billing: boolean): string {
  return billing
    ? `SELECT ${COLUMNS.join(', ')}, bs.bytes ${FROM} ${BILLED_JOIN}`
    : `SELECT ${COLUMNS.join(', ')} ${FROM}`;
}

/** Which rows to read: all, those with these names, or those of these stores. */
export interface BucketRowFilter {
  names?: string[];
  storeIds?: number[];
}

/** The filter as SQL conditions on table `bucket` (aliased by `alias`) and their values. */
export function whereOf(filter: BucketRowFilter, alias = ''): { where: string[]; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  if (filter.names) {
    where.push(`${alias}name IN (?)`);
    values.push(filter.names);
  }
  if (filter.storeIds) {
    // The same reading of the varchar column as the row's own store id (storeIdOf).
    where.push(`CAST(${alias}object_store_id AS UNSIGNED) IN (?)`);
    values.push(filter.storeIds);
  }
  return { where, values };
}

/** Every bucket row, or those the filter names, in id order. */
export async function readBucketRows(
  conn: Connection,
  timeout: number,
  filter: BucketRowFilter = {},
): Promise<DbBucket[]> {
  const buckets: DbBucket[] = [];
  await streamBucketRows(conn, timeout, filter, (b) => buckets.push(b));
  return inIdOrder(buckets) ? buckets : buckets.sort((x, y) => x.id - y.id);
}

/**
 * Every bucket row, or those the filter names, each handed on as it arrives: a million rows are never
 * held here. With `billing`, each row carries what bucket_statistics bills for it (DbBucket.billedBytes).
 */
export async function streamBucketRows(
  conn: Connection,
  timeout: number,
  filter: BucketRowFilter,
  onRow: (row: DbBucket) => void,
  {
    billing = false,
    shared = new SharedValues(),
  }: {
    billing?: boolean;
    /** Kept by the caller to share the owners' texts with a read of its own (inventory.ts accounts). */
    shared?: SharedValues;
  } = {},
): Promise<void> {
  const { where, values } = whereOf(filter, 'b.');
  // Streamed: each row becomes a DbBucket as it arrives, so 100,000 raw rows are never held at once.
  // The promise wrapper's underlying connection is mysql2's documented way to stream.
  const { connection } = conn as unknown as { connection: CallbackConnection };
  const rows = connection
    .query({
      sql: where.length ? `${select(billing)} WHERE ${where.join(' AND ')}` : select(billing),
      values,
      timeout,
      rowsAsArray: true,
      dateStrings: true, // CloudStack's DATETIMEs are UTC text already: no Date object per value
    })
    .stream({ highWaterMark: 1000 });
  // A streamed query has no callback to fail: mysql2 reports a connection lost mid-read on the
  // connection, and the rows would wait for the query timeout. Fail them at once instead.
  const lost = (err: Error) => rows.destroy(err);
  connection.once('error', lost);
  try {
    for await (const row of rows as AsyncIterable<unknown[]>) {
      const bucket = toDbBucket(row, shared);
      if (billing) {
        const billed = row[COLUMNS.length];
        bucket.billedBytes = billed === null || billed === undefined ? null : Number(billed);
      }
      onRow(bucket);
    }
  } finally {
    connection.off('error', lost);
  }
}

/**
 * One copy of what many rows repeat: an account's owner record, and short texts like a state. At
 * 100,000 buckets over a few thousand accounts this halves the inventory's memory.
 */
export class SharedValues {
  private readonly owners = new Map<string, Owner>();
  private readonly texts = new Map<string, string>();

  /** The owner record made for this account id, if a row named it. */
  ownerOf(accountId: unknown): Owner | undefined {
    return this.owners.get(String(accountId));
  }

  owner(accountId: unknown, make: () => Owner): Owner {
    const key = String(accountId);
    let owner = this.owners.get(key);
    if (!owner) this.owners.set(key, (owner = make()));
    return owner;
  }

  text(s: string): string {
    const known = this.texts.get(s);
    if (known !== undefined) return known;
    if (this.texts.size < 1000) this.texts.set(s, s);
    return s;
  }
}

function toDbBucket(row: unknown[], shared: SharedValues): DbBucket {
  const [id, uuid, name, storeId, state, created, removed, size, quota, versioning, encryption, objectLock] =
    row;
  const [policy, accessKeyUser, accountId, accountUuid, accountName, accountState, accountRemovedAt] =
    row.slice(12);
  const [domainUuid, domainPath, projectName, projectUuid, bucketUrl, keyDigest, keyLast4] = row.slice(19);
  return {
    id: Number(id),
    uuid: stringOrNull(uuid),
    name: String(name),
    storeId: storeIdOf(storeId),
    state: shared.text(String(state)),
    created: isoOrNull(created),
    removed: isoOrNull(removed),
    size: numberOrNull(size),
    quota: numberOrNull(quota),
    versioning: booleanOrNull(versioning),
    encryption: booleanOrNull(encryption),
    objectLock: booleanOrNull(objectLock),
    policy: policy === null || policy === undefined ? null : shared.text(String(policy)),
    accessKeyUser: accessKeyUser ? String(accessKeyUser) : null,
    ...(keyDigest ? { accessKey: { digest: String(keyDigest), last4: String(keyLast4 ?? '') } } : {}),
    bucketUrl: bucketUrl === null || bucketUrl === undefined ? null : safeEndpoint(String(bucketUrl)),
    owner:
      accountId === null
        ? null
        : shared.owner(accountId, () => ({
            accountUuid: String(accountUuid),
            accountName: String(accountName),
            // A few domains for thousands of accounts: one copy of each.
            domainUuid: shared.text(String(domainUuid)),
            domainPath: shared.text(String(domainPath)),
            ...(projectName ? { projectName: String(projectName) } : {}),
          })),
    projectUuid: projectUuid ? String(projectUuid) : null,
    accountRemoved:
      accountId === null || accountRemovedAt !== null || String(accountState).toLowerCase() === 'removed',
  };
}

/**
 * bucket.object_store_id is varchar: only a whole number names a store. MySQL's CAST would read
 * `1xyz` as store 1; such a row names no store (-1) and is reported, never judged against store 1.
 */
export const NO_STORE = -1;
export function storeIdOf(value: unknown): number {
  const text = String(value ?? '').trim();
  return /^\d+$/.test(text) ? Number(text) : NO_STORE;
}

/** The server returns the join in bucket order in practice; sorting is paid only when it did not. */
export function inIdOrder(buckets: DbBucket[]): boolean {
  for (let i = 1; i < buckets.length; i++)
    if ((buckets[i - 1]?.id ?? 0) > (buckets[i]?.id ?? 0)) return false;
  return true;
}

export function numberOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function stringOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function booleanOrNull(v: unknown): boolean | null {
  return v === null || v === undefined ? null : Number(v) !== 0;
}

const SQL_DATETIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) \d\d:\d\d:\d\d(\.\d+)?$/;

/** `2026-11-24 02:00:00` (UTC) as `2026-11-24T02:00:00.000Z`; a zero or malformed date as null. */
function isoOrNull(v: unknown): string | null {
  if (typeof v !== 'string' || !SQL_DATETIME.test(v)) return null;
  const fraction = v.length > 19 ? v.slice(19, 23).padEnd(4, '0') : '.000';
  return `${v.slice(0, 10)}T${v.slice(11, 19)}${fraction}Z`;
}
