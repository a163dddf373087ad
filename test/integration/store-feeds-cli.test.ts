// The "done when", as an operator runs it: the built `csdrift watch` following a live RGW's
// ops log from a YAML config; a bucket deleted directly in the RGW gives exactly one task on SNS
// within 15 s; SIGTERM leaves the log's position saved.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';

const ceph = inject('ceph');
const bin = new URL('../../bin/csdrift.js', import.meta.url).pathname;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks';

describe('csdrift watch follows an RGW ops log from the command line', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let child: ChildProcess | undefined;
  let stderr = '';

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    stderr = '';
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(stderr);
    child?.kill('SIGKILL');
    child = undefined;
    await sns.stop();
  });

  it('a bucket deleted directly in the RGW: exactly one bucket-missing-in-store task within 15 s', async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    const kept = bucketName('kept');
    await ctx.cloud.bucket(gone, store, alice);
    await ctx.cloud.bucket(kept, store, alice);
    const config = join(ctx.dir, 'csdrift.yaml');
    await writeFile(
      config,
      [
        'watch:',
        '  listen: 127.0.0.1:0',
        '  debounceSeconds: 5',
        '  opsLogs:',
        `    ceph-1: ${ceph.opsLog}`,
        '',
      ].join('\n'),
    );
    const args = ['watch', '--db', dbUrlText(ctx.cloud.database.db), '--config', config, '--out', ctx.dir];
    child = spawn(process.execPath, [bin, ...args, '--sns-topic', TOPIC, '--format', 'json'], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_SNS: sns.url,
        AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
        AWS_SECRET_ACCESS_KEY: 'standin',
        AWS_REGION: 'us-east-1',
      },
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    await until('the watcher to start', () => stderr.includes('watching:'));

    // Act
    const deletedAt = Date.now();
    await ctx.cloud.deleteInStore(gone, alice.keys);
    await until('the task', () => sns.published.length >= 1, 15_000);
    const tookMs = Date.now() - deletedAt;
    await new Promise((r) => setTimeout(r, 3000)); // anything more would have come by now
    child.kill('SIGTERM');
    const code = await exit;

    // Assert
    expect(stderr).toMatch(/watching: ceph-1's ops log /);
    expect(tookMs).toBeLessThan(15_000);
    expect(sns.published.map((m) => `${m.attributes.kind} ${m.attributes.rule}`)).toEqual([
      'task bucket-missing-in-store',
    ]);
    expect(sns.published[0]?.message).toContain(gone);
    expect(stderr).toContain(`(ops-log) -> bucket ${gone}: drift: bucket-missing-in-store (new)`);
    expect(code).toBe(0);
    const state = join(ctx.dir, 'watch-state');
    const cursor = (await readdir(state)).find((f) => f.startsWith('ops-log-'));
    expect(JSON.parse(await readFile(join(state, cursor as string), 'utf8'))).toMatchObject({
      offset: expect.any(Number),
    });
  });
});
