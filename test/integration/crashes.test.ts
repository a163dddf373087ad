// The audit's own failures: the database lost mid-read, the process killed while it writes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLedger } from '../../functions/core/ledger.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import type { PerTest } from '../support/per-test.js';
import { TcpCutter } from '../support/tcp-cutter.js';

const bin = new URL('../../bin/csdrift.js', import.meta.url).pathname;

/**
 * Many rows, so that the bucket read spans many packets and the reports take a while to write.
 * Stuck in Allocated: each one a finding, none of them costing a store request.
 */
async function manyBuckets(ctx: PerTest, count: number): Promise<void> {
  const store = await ctx.cloud.store('ceph-1');
  const alice = await ctx.cloud.account('alice');
  const rows = Array.from({ length: count }, (_, i) => [
    bucketName(`row${i}`),
    String(store.id),
    'Allocated',
    `uuid-${i}-${randomBytes(4).toString('hex')}`,
    alice.domain.id,
    alice.id,
  ]);
  await ctx.cloud.database.conn.query(
    'INSERT INTO bucket (name, object_store_id, state, uuid, domain_id, account_id, created) VALUES ?',
    [rows.map((r) => [...r, new Date(Date.now() - 3 * 86_400_000)])],
  );
}

describe('the database connection lost in the middle of the inventory read', () => {
  const ctx = cephCloudPerTest('4.21');
  let cutter: TcpCutter | undefined;
  afterEach(() => cutter?.stop());

  it('stops with one clear error naming the database, exit 3, and writes nothing', async () => {
    await manyBuckets(ctx, 3000);
    const db = ctx.cloud.database.db;
    cutter = await new TcpCutter({ host: db.host, port: db.port }, 40_000).start();
    const url = dbUrlText({ ...db, host: '127.0.0.1', port: cutter.port });

    const run = await csdrift(['audit', '--db', url, '--out', ctx.dir, '--json', '--quiet']);

    expect(cutter.cuts).toBeGreaterThan(0);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      new RegExp(`cannot reach the CloudStack database at 127\\.0\\.0\\.1:${cutter.port}`),
    );
    expect(await readdir(ctx.dir)).toEqual([]);
  });
});

describe('the process killed at random points while it writes reports and the ledger', () => {
  const ctx = cephCloudPerTest('4.21');
  const KILLS = Number(process.env.KILLS ?? 10);

  it(`leaves a valid ledger every time (${KILLS} kills)`, async () => {
    await manyBuckets(ctx, 2000); // 2000 findings: the writes take a while
    const args = [
      bin,
      'audit',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
      '--quiet',
      '--format',
      'json,html,csv,md',
    ];
    // A first, complete run: its ledger is the "previous good state".
    const first = await csdrift(args.slice(1));
    expect(first.code, first.stderr).toBe(1);
    const started = Date.now();
    const timed = await csdrift(args.slice(1));
    const duration = Date.now() - started;
    expect(timed.code).toBe(1);

    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = () => (state = (state * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < KILLS; i++) {
      const delay = Math.floor(duration * (0.3 + 0.7 * random()));
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      setTimeout(() => child.kill('SIGKILL'), delay);
      await new Promise((resolve) => child.on('exit', resolve));
      const text = await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8');
      const ledger = (() => {
        try {
          return parseLedger(text, 'state/ledger.json');
        } catch (err) {
          throw new Error(
            `kill ${i} after ${delay} ms (KILL_SEED=${seed}): the ledger is not valid: ${String(err)}`,
            { cause: err },
          );
        }
      })();
      expect(Object.keys(ledger.entries).length, `KILL_SEED=${seed}`).toBe(2000);
      const latest = await readFile(join(ctx.dir, 'latest', 'report.json'), 'utf8');
      expect(() => JSON.parse(latest), `latest report, KILL_SEED=${seed}`).not.toThrow();
    }
  }, 180_000);
});
