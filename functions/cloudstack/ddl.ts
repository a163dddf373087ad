// The project's copy of the CloudStack DDL (schema/), loaded by the demo and the tests.
import { readFile } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import type { CloudStackSchema } from '../core/model.js';

const file = (name: string) => new URL(`../../schema/${name}`, import.meta.url);

/** Runs the 4.19 DDL, then the 4.21 delta when asked; the connection needs multipleStatements. */
export async function loadCloudStackDdl(conn: Connection, schema: CloudStackSchema): Promise<void> {
  await conn.query(await readFile(file('cloudstack-4.19.sql'), 'utf8'));
  if (schema === '4.21') await conn.query(await readFile(file('cloudstack-4.21-delta.sql'), 'utf8'));
}
