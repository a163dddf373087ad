// csdrift watch as an operator runs it (the built CLI, a YAML config), and the overlaps continuous
// mode brings: SIGTERM mid-audit, a storm of events, a full audit racing a burst of targeted ones.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseLedger } from '../../functions/core/ledger.js';
import { SecretsStandIn, SnsStandIn } from '../support/aws-standins.js';
import { webhookSignature } from '../../functions/sources/webhook-signature.js';
import { csdrift } from '../support/cli.js';
import { bucketName, s3For } from '../support/cloud.js';
import { AMQP_URL, CloudStackBus } from '../support/cloudstack-events.js';
import { dbUrlText } from '../support/database.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { until } from '../support/until.js';

const ceph = inject('ceph');
const bin = new URL('../../bin/csdrift.js', import.meta.url).pathname;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks';

describe('csdrift watch from the command line', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  let bus: CloudStackBus;
  let exchange: string;
  let queue: string;
  let child: ChildProcess | undefined;
  let stderr = '';
  const env = () => ({
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
    AWS_SECRET_ACCESS_KEY: 'standin',
    AWS_REGION: 'us-east-1',
  });

  beforeEach(async () => {
    sns = await new SnsStandIn().start();
    const id = randomBytes(4).toString('hex');
    exchange = `cloudstack-events-${id}`;
    queue = `csdrift-watch-${id}`;
    bus = await CloudStackBus.open(exchange);
    stderr = '';
  });
  afterEach(async (test) => {
    if (test.task.result?.state === 'fail') console.error(stderr);
    child?.kill('SIGKILL');
    child = undefined;
    await bus.deleteQueue(queue);
    await bus.close();
    await sns.stop();
  });

  async function watch(storeUrl?: string, debounceSeconds = 0.2): Promise<{ exit: Promise<number | null> }> {
    const config = join(ctx.dir, 'csdrift.yaml');
    await writeFile(
      config,
      [
        'watch:',
        '  listen: 127.0.0.1:0',
        `  debounceSeconds: ${debounceSeconds}`,
        '  cloudstack:',
        `    amqp: { url: "${AMQP_URL}", exchange: ${exchange}, queue: ${queue} }`,
        ...(storeUrl ? ['stores:', `  ceph-1: { endpoint: "${storeUrl}" }`] : []),
        '',
      ].join('\n'),
    );
    const args = ['watch', '--db', dbUrlText(ctx.cloud.database.db), '--config', config, '--out', ctx.dir];
    child = spawn(process.execPath, [bin, ...args, '--sns-topic', TOPIC, '--format', 'json'], {
      env: { ...process.env, ...env() },
    });
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
    await until('the watcher to start', () => stderr.includes('watching:'));
    await until('the consumer', async () => (await bus.queue(queue)).consumerCount === 1);
    return { exit };
  }

  it('SIGTERM mid-audit: the audit in flight finishes, writes, acknowledges, and the watcher exits 0', async () => {
    // Prepare: a store whose every answer takes a second and a half
    const proxy = await new FaultProxy(ceph.endpoint).start();
    proxy.plan = () => ({ kind: 'slow', ms: 1500 });
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    const row = await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const { exit } = await watch(proxy.endpoint);

    // Act
    await bus.publish({ type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true });
    await until('the audit to start', () => stderr.includes('auditing 1 bucket(s)'));
    child?.kill('SIGTERM');
    const code = await exit;

    // Assert
    expect(code).toBe(0);
    expect(stderr).toContain('stopping: finishing the audits in flight');
    expect(stderr).toContain(`bucket ${gone}: drift: bucket-missing-in-store (new)`);
    const ledger = parseLedger(await readFile(join(ctx.dir, 'state/ledger.json'), 'utf8'), 'ledger');
    expect(Object.values(ledger.entries).map((e) => `${e.rule} ${e.bucket}`)).toEqual([
      `bucket-missing-in-store ${gone}`,
    ]);
    expect(sns.published.map((m) => m.attributes.kind)).toEqual(['task']);
    expect((await bus.queue(queue)).messageCount).toBe(0); // acknowledged, not left for redelivery
    await proxy.stop();
  });

  it('a storm of deletions becomes one batched audit and one "investigate this store" task', async () => {
    // Prepare: a script deletes 40 buckets in the store; CloudStack's deletes of them all fail
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const rows = [];
    for (let i = 0; i < 40; i++)
      rows.push(await ctx.cloud.bucketDeletedInStore(bucketName(`s${i}`), store, alice));
    await watch(undefined, 5);

    // Act
    for (const row of rows) await bus.publish({ type: 'BUCKET.DELETE', bucketUuid: row.uuid, failed: true });
    await until('the task', () => sns.published.length >= 1);
    await new Promise((r) => setTimeout(r, 1500));

    // Assert
    expect(sns.published).toHaveLength(1);
    expect(sns.published[0]?.subject).toMatch(/investigate store ceph-1: 40 new findings/);
    expect(stderr.match(/auditing \d+ bucket\(s\)/g)?.length).toBeLessThanOrEqual(2);
    expect((await bus.queue(queue)).messageCount).toBe(0);
  });
});

describe('csdrift watch refuses bad input with one line and exit 3, and reads a webhook secret from Secrets Manager', () => {
  const ctx = cephCloudPerTest('4.21');

  it.each([
    ['no watch section', '', /^csdrift: --config: needs a watch section/],
    [
      'no source',
      'watch: { debounceSeconds: 5 }',
      /^csdrift: .*csdrift\.yaml: watch: no source: give .*webhookSecretFile/,
    ],
    [
      'a bad cron',
      'watch: { fullAudit: { cron: "every night" } }',
      /^csdrift: .*csdrift\.yaml: watch\.fullAudit: /,
    ],
    [
      'a bad time zone',
      'watch: { fullAudit: { cron: "0 2 * * *", timeZone: Mars/Olympus } }',
      /^csdrift: .*csdrift\.yaml: watch\.fullAudit: /,
    ],
    [
      'a typo',
      'watch: { debounceSecond: 5, cloudstack: { pollEventsSeconds: 60 } }',
      /^csdrift: .*watch.*debounceSecond/,
    ],
    [
      'an ops log of no store',
      'watch: { listen: "127.0.0.1:0", opsLogs: { nowhere-9: /var/log/ceph/ops.log } }',
      /^csdrift: .*csdrift\.yaml: watch\.opsLogs\.nowhere-9: no such store \(known: /,
    ],
    [
      'a listen address in use',
      'watch: { listen: "127.0.0.1:%PORT%", cloudstack: { pollEventsSeconds: 60 } }',
      /^csdrift: .*csdrift\.yaml: watch\.listen 127\.0\.0\.1:\d+: cannot listen there \(EADDRINUSE\)/,
    ],
  ])('%s', async (_label, yaml, message) => {
    const busy = await new SnsStandIn().start(); // holds a port
    const config = join(ctx.dir, 'csdrift.yaml');
    await writeFile(config, `${yaml.replace('%PORT%', new URL(busy.url).port)}\n`);
    const run = await csdrift([
      'watch',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--config',
      config,
      '--out',
      ctx.dir,
    ]);
    await busy.stop();
    expect(run.code).toBe(3);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('webhookSecretId: the secret is read at start, and a delivery signed with it is queued', async () => {
    const secrets = await new SecretsStandIn({ 'csdrift/webhook': 'from-secrets-manager' }).start();
    const config = join(ctx.dir, 'csdrift.yaml');
    await writeFile(
      config,
      'watch: { listen: "127.0.0.1:0", cloudstack: { webhookSecretId: csdrift/webhook } }\n',
    );
    const child = spawn(
      process.execPath,
      [
        bin,
        'watch',
        '--db',
        dbUrlText(ctx.cloud.database.db),
        '--config',
        config,
        '--out',
        ctx.dir,
        '--no-notify',
      ],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
          AWS_SECRET_ACCESS_KEY: 'standin',
          AWS_REGION: 'us-east-1',
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const listening = await until('the listener', () => /listening on (\S+)/.exec(stderr)?.[1]);
    const body = JSON.stringify({ event: 'VM.START', status: 'Completed' });
    const post = (secret: string) =>
      fetch(`http://${listening}/events/cloudstack`, {
        method: 'POST',
        headers: { 'x-cs-signature': webhookSignature(secret, Buffer.from(body)) },
        body,
      }).then((r) => r.status);
    const statuses = [await post('from-secrets-manager'), await post('another')];
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
    await secrets.stop();
    expect(statuses).toEqual([200, 401]);
    expect(stderr).not.toContain('from-secrets-manager');
  });
});

describe('a full audit racing a burst of targeted audits on one ledger', () => {
  const ctx = cephCloudPerTest('4.21');

  it.each([
    ['a folder', (dir: string) => dir],
    [
      'an S3 prefix on RGW (conditional writes)',
      () => `s3://ledgers-${randomBytes(3).toString('hex')}/csdrift`,
    ],
  ])('in %s, nothing is lost', async (_label, out) => {
    // Prepare: eight buckets deleted behind CloudStack's back
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const names: string[] = [];
    for (let i = 0; i < 8; i++) {
      names.push(bucketName(`r${i}`));
      await ctx.cloud.bucketDeletedInStore(names[i] as string, store, alice);
    }
    const target = out(ctx.dir);
    const s3env = {
      AWS_ENDPOINT_URL_S3: ceph.endpoint,
      AWS_ACCESS_KEY_ID: ceph.systemAdmin.accessKey,
      AWS_SECRET_ACCESS_KEY: ceph.systemAdmin.secretKey,
      AWS_REGION: 'us-east-1',
    };
    if (target.startsWith('s3://'))
      await s3For(ceph.endpoint, ceph.systemAdmin).send(
        new CreateBucketCommand({ Bucket: target.slice(5).split('/')[0] }),
      );
    const db = dbUrlText(ctx.cloud.database.db);
    const common = ['--db', db, '--out', target, '--no-notify', '--quiet', '--format', 'json'];

    // Act: the full audit and one targeted audit per bucket, all at once
    const runs = await Promise.all([
      csdrift(['audit', ...common], s3env),
      ...names.map((name) => csdrift(['audit', ...common, '--bucket', name], s3env)),
    ]);

    // Assert: every run landed (none lost the race for good), and the ledger holds every finding
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 1));
    expect(runs.map((r) => r.stderr).join('')).not.toMatch(/ledger update was not written/);
    const report = await csdrift(['report', '--out', target, '--run', 'latest', '--format', 'json'], s3env);
    expect(report.code).toBe(0);
    const [bucket, prefix] = target.slice(5).split('/');
    const ledgerText = target.startsWith('s3://')
      ? await (
          await s3For(ceph.endpoint, ceph.systemAdmin).send(
            new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/state/ledger.json` }),
          )
        ).Body?.transformToString()
      : await readFile(join(ctx.dir, 'state/ledger.json'), 'utf8');
    const ledger = parseLedger(ledgerText ?? '', 'ledger');
    const missing = Object.values(ledger.entries).filter((e) => e.rule === 'bucket-missing-in-store');
    expect(missing.map((e) => e.bucket).sort()).toEqual([...names].sort());
    expect(Object.values(ledger.entries).map((e) => e.status)).not.toContain('resolved');
    // The current view, written by whichever run wrote last, is the ledger as it stands.
    const currentText = target.startsWith('s3://')
      ? await (
          await s3For(ceph.endpoint, ceph.systemAdmin).send(
            new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/current/report.json` }),
          )
        ).Body?.transformToString()
      : await readFile(join(ctx.dir, 'current/report.json'), 'utf8');
    const current = JSON.parse(currentText ?? '{}') as { findings: { id: string }[] };
    expect(current.findings.map((f) => f.id).sort()).toEqual(Object.keys(ledger.entries).sort());
  });
});
