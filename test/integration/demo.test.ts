import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { parseDbUrl } from '../../functions/cloudstack/db-url.js';
import { csdrift } from '../support/cli.js';
import { TEST_DB_SERVER } from '../support/database.js';

describe('csdrift demo', () => {
  it('finds the seed case and each planted drift, then drops its database', async () => {
    // Act
    const run = await csdrift(['demo'], { CSDRIFT_DEMO_DB_URL: TEST_DB_SERVER });

    // Assert
    expect(run.code).toBe(0);
    for (const line of [
      /high +bucket-missing-in-store: backups-2025 on minio-1 \[alice\]/,
      /bucket-unmanaged-in-store: scratch-tmp/,
      /bucket-removed-but-present: old-reports/,
      /bucket-stuck-allocated: upload-staging/,
      /bucket-duplicate-name: shared-data/,
      /bucket-account-removed: carol-files/,
      /store sim-1 \(Simulator\): skipped/,
      /report: .*report\.html/,
    ]) {
      expect(run.stdout).toMatch(line);
    }
    expect(run.stdout).not.toMatch(/logs-archive/); // within the grace period
    const reportRoot = /report: (.*?csdrift-demo-\w+)/.exec(run.stdout)?.[1];
    expect(reportRoot?.startsWith(join(tmpdir(), 'csdrift-demo-'))).toBe(true);
    await rm(reportRoot as string, { recursive: true, force: true });
    const database = /database (csdrift_demo_\w+)/.exec(run.stderr)?.[1];
    expect(database).toBeDefined();
    const server = parseDbUrl(TEST_DB_SERVER);
    const conn = await createConnection({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    });
    const [rows] = await conn.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [database]);
    await conn.end();
    expect(rows).toEqual([]);
  });

  it('says which server it could not reach', async () => {
    const run = await csdrift(['demo'], { CSDRIFT_DEMO_DB_URL: 'mysql://root@127.0.0.1:1/mysql' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /cannot reach the CloudStack database at 127\.0\.0\.1:1: ECONNREFUSED .*CSDRIFT_DEMO_DB_URL/,
    );
  });
});
