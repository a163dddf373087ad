// Large CloudStack inventories for the benchmarks: accounts and bucket rows bulk-inserted the way the
// seed (functions/demo/cloudstack-seed.ts) writes them one by one, a thousand rows per statement.
import { randomUUID } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { SeedDomain, SeedStore } from '../functions/demo/cloudstack-seed.js';
import { hoursAgo, sqlTime } from '../functions/demo/cloudstack-seed.js';

const CHUNK = 1000;

export interface ScaleAccount {
  id: number;
  uuid: string;
  name: string;
}

export interface ScaleBucket {
  name: string;
  account: ScaleAccount;
  versioning?: boolean;
  /** bucket.access_key: the owner's key, as CloudStack records it on every bucket it makes. */
  accessKey?: string;
}

/** The i-th benchmark bucket name: valid for S3, sorted like its index. */
export function scaleBucketName(i: number): string {
  return `bench-${String(i).padStart(7, '0')}`;
}

export async function insertAccounts(
  conn: Connection,
  domain: SeedDomain,
  count: number,
): Promise<ScaleAccount[]> {
  const accounts = Array.from({ length: count }, (_, i) => ({ uuid: randomUUID(), name: `tenant-${i}` }));
  for (let i = 0; i < accounts.length; i += CHUNK) {
    const rows = accounts
      .slice(i, i + CHUNK)
      .map((a) => [a.name, a.uuid, 0, domain.id, 'enabled', sqlTime(hoursAgo(24 * 300))]);
    await conn.query('INSERT INTO account (account_name, uuid, type, domain_id, state, created) VALUES ?', [
      rows,
    ]);
  }
  const [ids] = await conn.query<(RowDataPacket & { id: number; uuid: string })[]>(
    'SELECT id, uuid FROM account WHERE uuid IN (?)',
    [accounts.map((a) => a.uuid)],
  );
  const idOf = new Map(ids.map((r) => [r.uuid, Number(r.id)]));
  return accounts.map((a) => ({ ...a, id: idOf.get(a.uuid) ?? 0 }));
}

/** `count` rows named by scaleBucketName, owned round-robin by the accounts. */
export function spreadOver(accounts: ScaleAccount[], count: number): ScaleBucket[] {
  return Array.from({ length: count }, (_, i) => ({
    name: scaleBucketName(i),
    account: accounts[i % accounts.length] as ScaleAccount,
  }));
}

/** Rows in state Created, two days old (past any grace period), owned as given. */
export async function insertBuckets(
  conn: Connection,
  store: SeedStore,
  domain: SeedDomain,
  buckets: ScaleBucket[],
): Promise<void> {
  const created = sqlTime(hoursAgo(48));
  for (let i = 0; i < buckets.length; i += CHUNK) {
    const rows = buckets
      .slice(i, i + CHUNK)
      .map((b) => [
        b.name,
        String(store.id),
        'Created',
        randomUUID(),
        domain.id,
        b.account.id,
        0,
        b.versioning ?? false,
        false,
        false,
        'private',
        `${store.url}/${b.name}`,
        created,
        b.accessKey ?? null,
      ]);
    await conn.query(
      `INSERT INTO bucket (name, object_store_id, state, uuid, domain_id, account_id, size, versioning,
                           encryption, object_lock, policy, bucket_url, created, access_key) VALUES ?`,
      [rows],
    );
  }
}
