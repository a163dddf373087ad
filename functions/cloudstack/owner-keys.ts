// The store keys CloudStack keeps for each account (account_details): for re-creating a bucket as its
// owner, and for reading the attributes of buckets the store's admin may not read. Read only when
// needed; never logged or reported.
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import type { Keys } from '../core/model.js';
import { STORE_KEY_DETAILS } from '../core/store-naming.js';
import type { DbUrl } from './db-url.js';

/** The keys of each of these accounts on stores of this provider, in one query. */
export async function ownerStoreKeysOf(
  db: DbUrl,
  accountUuids: string[],
  provider: string,
): Promise<Map<string, Keys>> {
  const names = STORE_KEY_DETAILS[provider];
  const keys = new Map<string, Keys>();
  if (!names || !accountUuids.length) return keys;
  const conn = await createConnection({ ...db, connectTimeout: 10_000 });
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT a.uuid, d.name, d.value FROM account_details d JOIN account a ON a.id = d.account_id
        WHERE a.uuid IN (?) AND d.name IN (?)`,
      [[...new Set(accountUuids)], names],
    );
    const partial = new Map<string, Partial<Keys>>();
    for (const r of rows) {
      const entry = partial.get(String(r.uuid)) ?? {};
      if (r.name === names[0]) entry.accessKey = String(r.value);
      if (r.name === names[1]) entry.secretKey = String(r.value);
      partial.set(String(r.uuid), entry);
    }
    for (const [uuid, k] of partial) if (k.accessKey && k.secretKey) keys.set(uuid, k as Keys);
    return keys;
  } finally {
    conn.destroy();
  }
}

export async function ownerStoreKeys(db: DbUrl, accountUuid: string, provider: string): Promise<Keys | null> {
  return (await ownerStoreKeysOf(db, [accountUuid], provider)).get(accountUuid) ?? null;
}

/** A lookup that reads every listed account's keys on first use, once: no query when nobody needs them. */
export function lazyOwnerKeys(
  db: DbUrl,
  /** Asked for on the first lookup only: most scans never need an owner's keys. */
  accountUuids: () => string[],
  provider: string,
): (accountUuid: string) => Promise<Keys | null> {
  let all: Promise<Map<string, Keys>> | undefined;
  return async (uuid) => {
    all ??= ownerStoreKeysOf(db, accountUuids(), provider).catch(() => new Map());
    return (await all).get(uuid) ?? null;
  };
}
