// A fresh CloudStack database per test file, in the MariaDB the machine runs.
import { parseDbUrl } from '../../functions/cloudstack/db-url.js';
import type { CloudStackSchema } from '../../functions/core/model.js';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';
import { createThrowawayDatabase } from '../../functions/demo/throwaway-db.js';

export const TEST_DB_SERVER = process.env.CSDRIFT_TEST_DB_URL ?? 'mysql://root@127.0.0.1:3306/mysql';

export function freshCloudStackDb(schema: CloudStackSchema): Promise<ThrowawayDatabase> {
  return createThrowawayDatabase(parseDbUrl(TEST_DB_SERVER), schema, 'csdrift_test');
}

export function dbUrlText(db: ThrowawayDatabase['db']): string {
  return `mysql://${encodeURIComponent(db.user)}${db.password ? `:${encodeURIComponent(db.password)}` : ''}@${db.host}:${db.port}/${db.database}`;
}
