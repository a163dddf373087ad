import type { Connection, RowDataPacket } from 'mysql2/promise';
import { SchemaMismatchError } from '../core/errors.js';
import type { CloudStackSchema } from '../core/model.js';

/** Columns the auditor reads. Anything missing means this is not a CloudStack 4.19+ database. */
const REQUIRED: Record<string, string[]> = {
  object_store: ['id', 'name', 'object_provider_name', 'url', 'uuid', 'removed', 'total_size'],
  object_store_details: ['store_id', 'name', 'value'],
  bucket: [
    'id',
    'uuid',
    'name',
    'object_store_id',
    'state',
    'account_id',
    'domain_id',
    'size',
    'quota',
    'created',
    'removed',
  ],
  account: ['id', 'uuid', 'account_name', 'type', 'state', 'removed'],
  domain: ['id', 'uuid', 'path'],
  projects: ['name', 'uuid', 'project_account_id', 'removed'],
};

/** 4.19/4.20 have object_store.used_bytes; 4.21 renamed it used_size and added allocated_size. */
export async function detectSchema(
  conn: Connection,
  database: string,
  timeout: number,
): Promise<CloudStackSchema> {
  const [rows] = await conn.query<RowDataPacket[]>({
    sql: `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)`,
    values: [Object.keys(REQUIRED)],
    timeout,
  });
  const have = new Set(rows.map((r) => `${String(r.t).toLowerCase()}.${String(r.c).toLowerCase()}`));
  const tables = new Set([...have].map((tc) => tc.split('.')[0]));
  const missingTables = Object.keys(REQUIRED).filter((t) => !tables.has(t));
  if (missingTables.length) {
    throw new SchemaMismatchError(
      `database "${database}" is not a CloudStack 4.19+ management database: no table ${missingTables.join(', ')}`,
    );
  }
  const missing = Object.entries(REQUIRED).flatMap(([t, cols]) =>
    cols.filter((c) => !have.has(`${t}.${c}`)).map((c) => `${t}.${c}`),
  );
  if (missing.length) {
    throw new SchemaMismatchError(
      `database "${database}" is not a CloudStack 4.19+ management database: missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
    );
  }
  if (have.has('object_store.used_size') && have.has('object_store.allocated_size')) return '4.21';
  if (have.has('object_store.used_bytes')) return '4.19';
  throw new SchemaMismatchError(
    `database "${database}": object_store has neither used_bytes (4.19/4.20) nor used_size and allocated_size (4.21+)`,
  );
}
