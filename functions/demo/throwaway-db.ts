// A fresh database loaded with the CloudStack DDL, dropped again afterwards.
import { randomBytes } from 'node:crypto';
import { createConnection } from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import type { DbUrl } from '../cloudstack/db-url.js';
import { loadCloudStackDdl } from '../cloudstack/ddl.js';
import type { CloudStackSchema } from '../core/model.js';

export interface ThrowawayDatabase {
  db: DbUrl;
  conn: Connection;
  drop(): Promise<void>;
}

export async function createThrowawayDatabase(
  server: DbUrl,
  schema: CloudStackSchema,
  prefix = 'csdrift',
): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    connectTimeout: 10_000,
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  const db = { ...server, database: name };
  const conn = await createConnection({ ...db, multipleStatements: true, timezone: 'Z' });
  await loadCloudStackDdl(conn, schema);
  return {
    db,
    conn,
    async drop() {
      await conn.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}
