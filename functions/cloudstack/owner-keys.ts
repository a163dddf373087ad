// The store keys CloudStack keeps for one account (account_details), for re-creating a bucket as
// its owner. Read only when a remediation is applied; never logged or reported.
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import type { DbUrl } from './db-url.js';

const KEY_NAMES: Record<string, [string, string]> = {
  Ceph: ['ceph-rgw-accesskey', 'ceph-rgw-secretkey'],
  MinIO: ['minio-accesskey', 'minio-secretkey'],
};

export async function ownerStoreKeys(
  db: DbUrl,
  accountUuid: string,
  provider: string,
): Promise<{ accessKey: string; secretKey: string } | null> {
  const names = KEY_NAMES[provider];
  if (!names) return null;
  const conn = await createConnection({ ...db, connectTimeout: 10_000 });
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT d.name, d.value FROM account_details d JOIN account a ON a.id = d.account_id WHERE a.uuid = ? AND d.name IN (?)`,
      [accountUuid, names],
    );
    const byName = new Map(rows.map((r) => [String(r.name), String(r.value)]));
    const [accessKey, secretKey] = [byName.get(names[0]), byName.get(names[1])];
    return accessKey && secretKey ? { accessKey, secretKey } : null;
  } finally {
    conn.destroy();
  }
}
