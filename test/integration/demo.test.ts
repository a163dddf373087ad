import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { parseDbUrl } from '../../functions/cloudstack/db-url.js';
import { csdrift } from '../support/cli.js';
import { TEST_DB_SERVER } from '../support/database.js';

describe('csdrift demo', () => {
  it('replays four nights, finds the seed case and each planted drift with its bytes and trend, then drops its database', async () => {
    // Act
    const run = await csdrift(['demo'], { CSDRIFT_DEMO_DB_URL: TEST_DB_SERVER });

    // Assert
    expect(run.code).toBe(0);
    for (const line of [
      /^night of \d{4}-\d\d-\d\d: scratch-tmp .*5 finding\(s\); 12\.0 MiB unbilled/m,
      /^night of \d{4}-\d\d-\d\d: scratch-tmp grows by 12 MiB\. 5 finding\(s\); 32\.0 MiB unbilled/m,
      /250\.00 GiB billed for buckets that are gone \(5\.00 EUR a month\)/,
      /bucket-billed-after-removal: reports-2024 on minio-1 \[account bob\], 250\.00 GiB billed a period {2}\[[0-9a-f]{32}\]$/m,
      /^tonight: backups-2025 is deleted/m,
      /at stake: 40\.0 MiB unbilled, 0\.0 MiB misbilled/,
      /since the last full run: \+2 new, -0 resolved; .*\+8\.0 MiB unbilled since yesterday/,
      /high +bucket-missing-in-store: backups-2025 on minio-1 \[account alice\] {2}\[[0-9a-f]{32}\]$/m,
      /bucket-unmanaged-in-store: scratch-tmp on minio-1, 32\.0 MiB {2}\[[0-9a-f]{32}\]$/m,
      /bucket-removed-but-present: old-reports on minio-1 \[account bob\], 6\.0 MiB {2}\[[0-9a-f]{32}\]$/m,
      /bucket-stuck-allocated: upload-staging/,
      /bucket-duplicate-name: shared-data/,
      /bucket-account-removed: carol-files on minio-1 \[account carol\], 2\.0 MiB {2}\[[0-9a-f]{32}\]$/m,
      /store sim-1 \(Simulator\): skipped/,
      /report: .*report\.html/,
    ]) {
      expect(run.stdout).toMatch(line);
    }
    expect(run.stdout).not.toMatch(/logs-archive/); // within the grace period
    const reportRoot = /report: (.*?csdrift-demo-\w+)/.exec(run.stdout)?.[1];
    expect(reportRoot?.startsWith(join(tmpdir(), 'csdrift-demo-'))).toBe(true);
    // Four replayed nights, each a full run: the report draws all four, in order, to the byte.
    const history = JSON.parse(await readFile(join(reportRoot as string, 'state', 'history.json'), 'utf8'));
    expect(history.full).toHaveLength(4);
    const html = await readFile(/report: (.*report\.html)/.exec(run.stdout)?.[1] as string, 'utf8');
    const unbilled = [...html.matchAll(/data-series="unbilled" data-at="[^"]+" data-value="(\d+)"/g)].map(
      (m) => Number(m[1]) / 2 ** 20,
    );
    expect(unbilled).toEqual([12, 20, 32, 40]);
    await rm(reportRoot as string, { recursive: true, force: true });
    const database = /database (csdrift_demo_\w+)/.exec(run.stderr)?.[1];
    expect(database).toBeDefined();
    expect(await databaseExists(database as string)).toBe(false);
  });

  it('says which server it could not reach', async () => {
    const run = await csdrift(['demo'], { CSDRIFT_DEMO_DB_URL: 'mysql://root@127.0.0.1:1/mysql' });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /cannot reach the CloudStack database at 127\.0\.0\.1:1: ECONNREFUSED .*CSDRIFT_DEMO_DB_URL/,
    );
  });

  /** Whether the server still has this database. */
  async function databaseExists(name: string): Promise<boolean> {
    const server = parseDbUrl(TEST_DB_SERVER);
    const conn = await createConnection({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    });
    const [rows] = await conn.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [name]);
    await conn.end();
    return rows.length > 0;
  }

  /**
   * The demo in its own temp folder, stopped by `stop` once its database exists: what is left in
   * that folder and on the server afterwards, and how it ended.
   */
  async function interrupted(stop: (child: ReturnType<typeof spawn>) => void) {
    const tmp = await mkdtemp(join(tmpdir(), 'csdrift-demo-interrupted-'));
    const child = spawn(
      process.execPath,
      [new URL('../../bin/csdrift.js', import.meta.url).pathname, 'demo'],
      {
        env: { ...process.env, CSDRIFT_DEMO_DB_URL: TEST_DB_SERVER, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let database: string | undefined;
    let stopped = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      database ??= /database (csdrift_demo_\w+)/.exec(stderr)?.[1];
      if (database && !stopped) {
        stopped = true;
        stop(child);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const left = await readdir(tmp);
    await rm(tmp, { recursive: true, force: true });
    return { code, stderr, database, left, exists: database ? await databaseExists(database) : false };
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s removes its database and its folders before it exits', async (signal, expected) => {
    const result = await interrupted((child) => child.kill(signal));
    expect(result.database).toBeDefined();
    expect(result.stderr).toContain(`demo: ${signal}: removing its database and store before exiting`);
    expect(result.code).toBe(expected);
    expect(result.exists).toBe(false);
    expect(result.left).toEqual([]);
  });

  it('piped into a reader that stops (| head) removes its database and its folders', async () => {
    const result = await interrupted((child) => {
      child.stdout?.destroy(); // the reader goes away: the demo's next line meets a closed pipe
    });
    expect(result.database).toBeDefined();
    expect(result.stderr).toContain('standard output was closed; stopped');
    expect(result.code).toBe(3);
    expect(result.exists).toBe(false);
    expect(result.left).toEqual([]);
  });
});
