// What the usage server has already recorded for buckets that are gone: its records in the usage
// database (`cloud_usage.cloud_usage`, setup/db/create-schema-premium.sql), one per usage period,
// type 29 (UsageTypes.BUCKET), `usage_id` the bucket id, `raw_usage` the bytes billed for that period
// (usage/.../BucketUsageParser.java). Read-only, optional (config `usageDb`), and only for the rows
// the billing rule reports.
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import pLimit from 'p-limit';
import type { DbBucket, UsageSinceRemoval } from '../core/model.js';
import type { DbUrl } from './db-url.js';
import { parseDbUrl } from './db-url.js';

const BUCKET_USAGE_TYPE = 29;
/** Ghost-billed rows are few; more than this many are read no further (the finding says so). */
export const MAX_USAGE_LOOKUPS = 500;

/** config `usageDb.url`; its database defaults to `cloud_usage`, where CloudStack's usage server writes. */
export function usageDbUrl(raw: string): DbUrl {
  const url = parseDbUrl(raw);
  return /^mysql:\/\/[^/]+\/?$/.test(raw) ? { ...url, database: 'cloud_usage' } : url;
}

/** Each row's usage records since its removal, by bucket id; throws when the database cannot be read. */
export async function readUsageSinceRemoval(
  db: DbUrl,
  rows: Pick<DbBucket, 'id' | 'removed'>[],
  timeout = 30_000,
): Promise<Map<number, UsageSinceRemoval>> {
  const found = new Map<number, UsageSinceRemoval>();
  const wanted = rows.filter((r) => r.removed).slice(0, MAX_USAGE_LOOKUPS);
  if (!wanted.length) return found;
  const conn = await createConnection({ ...db, connectTimeout: 10_000, dateStrings: true });
  try {
    const limit = pLimit(1); // one connection: its queries go one at a time
    await Promise.all(
      wanted.map((row) =>
        limit(async () => {
          const [result] = await conn.query<RowDataPacket[]>({
            sql: `SELECT COUNT(*) AS records, COALESCE(SUM(raw_usage), 0) AS bytes,
                         MIN(start_date) AS first, MAX(end_date) AS last
                    FROM cloud_usage WHERE usage_type = ? AND usage_id = ? AND end_date > ?`,
            values: [
              BUCKET_USAGE_TYPE,
              row.id,
              (row.removed as string).replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
            ],
            timeout,
          });
          const r = result[0];
          if (r && Number(r.records) > 0)
            found.set(row.id, {
              records: Number(r.records),
              bytes: Number(r.bytes),
              from: `${String(r.first).replace(' ', 'T')}Z`,
              to: `${String(r.last).replace(' ', 'T')}Z`,
            });
        }),
      ),
    );
    return found;
  } finally {
    conn.destroy();
  }
}
