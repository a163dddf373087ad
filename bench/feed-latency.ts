// Continuous mode from the store's own feed: a live Ceph RGW writing its ops log to a file, followed
// by the watcher (debounce 5 s). Store-side changes made at a steady rate (a bucket deleted, an
// unknown one created, a private one made public, versioning switched on), each timed from the
// change to its SNS task; the store requests each change costs. Then the ops log follower's own
// speed: object-level lines read per second, against the floor of reading and splitting the same
// file in one go.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { parseAuditConfig } from '../functions/core/config.js';
import { OpsLogSource, opsLogPosition } from '../functions/sources/ops-log-source.js';
import { FolderStorage } from '../functions/state/folder-storage.js';
import type { Watcher } from '../functions/watch/watcher.js';
import { SnsStandIn } from '../test/support/aws-standins.js';
import { createRgwUser } from '../test/support/ceph.js';
import { s3For } from '../test/support/cloud.js';
import type { Figure } from './results.js';
import { atLeast, atMost, median, round } from './results.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import { insertBuckets } from './scale-cloud.js';
import { benchWatcher, eventRunCosts, percentile, targetedAuditFloor } from './watch-harness.js';

const P95_TARGET_SECONDS = 15;
const REQUESTS_TARGET = 3;
const LINES_TARGET = 5000;
const DEBOUNCE_SECONDS = 5;

type Kind = 'deleted' | 'unknown' | 'public' | 'versioned';
const KINDS: Kind[] = ['deleted', 'unknown', 'public', 'versioned'];

async function change(s3: S3Client, kind: Kind, name: string): Promise<void> {
  if (kind === 'deleted') await s3.send(new DeleteBucketCommand({ Bucket: name }));
  if (kind === 'unknown') await s3.send(new CreateBucketCommand({ Bucket: name }));
  if (kind === 'versioned')
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  if (kind === 'public')
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: name,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${name}/*` },
          ],
        }),
      }),
    );
}

export async function feedLatency(
  server: DbUrl,
  changes: number,
  otherRows: number,
  print: (line: string) => void,
): Promise<Figure[]> {
  const cloud = await cephBenchCloud(server);
  const { ceph, database, seed, domain, store } = cloud;
  const dir = await mkdtemp(join(tmpdir(), 'csdrift-bench-feeds-'));
  const sns = await new SnsStandIn().start();
  let watcher: Watcher | undefined;
  let s3: S3Client | undefined;
  try {
    const account = await seed.account('tenant', domain);
    const keys = await createRgwUser(ceph.conf, account.uuid, 'tenant');
    await seed.accountDetail(account, 'ceph-rgw-accesskey', keys.accessKey);
    await seed.accountDetail(account, 'ceph-rgw-secretkey', keys.secretKey);
    s3 = s3For(ceph.endpoint, keys);
    // Rows a targeted audit must never read, and the buckets the changes touch.
    await insertBuckets(
      database.conn,
      store,
      domain,
      Array.from({ length: otherRows }, (_, i) => ({ name: `other-${i}`, account })),
    );
    const plan = Array.from({ length: changes }, (_, i) => ({
      kind: KINDS[i % KINDS.length] as Kind,
      name: `feed-${i}`,
    }));
    for (const { kind, name } of plan) {
      if (kind === 'unknown') continue;
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      await seed.bucket({
        name,
        store,
        account,
        accessKey: keys.accessKey,
        secretKey: keys.secretKey,
        versioning: false,
        policy: 'private',
      });
    }

    const config = parseAuditConfig({
      // 52 new findings in a minute are a storm to the breaker, which would tell one "investigate"
      // task instead: the benchmark times each change's own task, so the breaker stands aside.
      notify: { breakerFindings: 10_000 },
      watch: { listen: '127.0.0.1:0', debounceSeconds: DEBOUNCE_SECONDS, opsLogs: { 'ceph-1': ceph.opsLog } },
    });
    // The floor: the same targeted audit of one changed bucket, run directly.
    const floors = await targetedAuditFloor(database.db, config, 'feed-0');
    const started = await benchWatcher(database.db, config, sns, dir);
    watcher = started.watcher;
    await new Promise((r) => setTimeout(r, 2000)); // the plant's own lines pass first

    // One change a second, each timed to the task that names its bucket.
    const changedAt = new Map<string, number>();
    const toldAt = new Map<string, number>();
    const seen = () => {
      for (const m of sns.published)
        for (const { name } of plan)
          if (!toldAt.has(name) && changedAt.has(name) && m.message.includes(`${name} `))
            toldAt.set(name, Date.now());
    };
    const poll = setInterval(seen, 20);
    for (const { kind, name } of plan) {
      const next = Date.now() + 1000;
      changedAt.set(name, Date.now());
      await change(s3, kind, name);
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    for (let t = Date.now(); toldAt.size < plan.length && Date.now() - t < 60_000;)
      await new Promise((r) => setTimeout(r, 100));
    clearInterval(poll);
    seen();
    const missing = plan.filter((p) => !toldAt.has(p.name));
    if (missing.length)
      throw new Error(`no task for ${missing.map((m) => `${m.name} (${m.kind})`).join(', ')}`);
    const latencies = plan.map(({ name }) => ((toldAt.get(name) ?? 0) - (changedAt.get(name) ?? 0)) / 1000);

    const { requests } = await eventRunCosts(started.storage);
    const lines = await followerSpeed(dir);
    print(
      `  ${changes} store-side changes, one a second, debounce ${DEBOUNCE_SECONDS} s, ${otherRows + changes} bucket rows`,
    );
    return [
      {
        id: 'feeds.toTaskMedianSeconds',
        label: `store-side change to SNS task (RGW ops log), median of ${changes}`,
        value: round(median(latencies), 1),
        unit: 's',
        target: atMost(P95_TARGET_SECONDS)(median(latencies)),
        detail: `debounce ${DEBOUNCE_SECONDS} s included`,
      },
      {
        id: 'feeds.toTaskP95Seconds',
        label: `store-side change to SNS task (RGW ops log), p95 of ${changes}`,
        value: round(percentile(latencies, 95), 1),
        unit: 's',
        target: atMost(P95_TARGET_SECONDS)(percentile(latencies, 95)),
      },
      {
        id: 'feeds.toTaskMaxSeconds',
        label: `store-side change to SNS task (RGW ops log), max of ${changes}`,
        value: round(Math.max(...latencies), 1),
        unit: 's',
      },
      {
        id: 'feeds.toTaskVsFloor',
        label: 'store-side change to task, median / the targeted audit alone',
        value: round(median(latencies) / median(floors), 1),
        unit: 'x',
        detail: `floor ${round(median(floors), 3)} s; the debounce is most of it`,
      },
      {
        id: 'feeds.storeRequestsPerChange',
        label: 'store requests per change',
        value: round(requests / changes, 2),
        unit: '',
        target: atMost(REQUESTS_TARGET)(requests / changes),
      },
      {
        id: 'feeds.opsLogLinesPerSecond',
        label: `ops log lines followed per second (${lines.count} object lines, one delete)`,
        value: Math.round(lines.perSecond),
        unit: '/s',
        target: atLeast(LINES_TARGET)(lines.perSecond),
        detail: `${round(lines.perSecond / lines.floorPerSecond, 2)}x the floor (read and split at once: ${Math.round(lines.floorPerSecond)}/s)`,
      },
    ];
  } finally {
    await watcher?.stop();
    s3?.destroy();
    await sns.stop();
    await cloud.close(); // first: the cluster and the database must not outlive a failed clean-up
    await rm(dir, { recursive: true, force: true });
  }
}

/** How fast the follower reads a busy RGW's log: object lines with one delete at the very end. */
async function followerSpeed(
  dir: string,
): Promise<{ count: number; perSecond: number; floorPerSecond: number }> {
  const count = 500_000;
  const log = join(dir, 'speed.log');
  const line = (op: string, bucket: string, i: number) =>
    JSON.stringify({
      bucket,
      time: new Date().toISOString(),
      time_local: new Date().toISOString(),
      remote_addr: '10.0.0.9',
      user: 'tenant',
      operation: op,
      uri: `PUT /${bucket}/object-${i} HTTP/1.1`,
      http_status: '200',
      error_code: '',
      bytes_sent: 0,
      bytes_received: 4096,
      object_size: 4096,
      total_time: 4,
      user_agent: 'aws-sdk-go/1.44',
      referrer: '',
      trans_id: `tx${i.toString(16).padStart(20, '0')}-default`,
      authentication_type: 'Local',
      access_key_id: 'AKIDTENANT',
      temp_url: false,
    });
  const text = `${Array.from({ length: count }, (_, i) => line(i % 2 ? 'put_obj' : 'get_obj', 'busy', i)).join('\n')}\n${line('delete_bucket', 'gone', 0)}\n`;
  await writeFile(log, '');
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const source = new OpsLogSource({
    store: 'bench',
    path: log,
    cursor: opsLogPosition(new FolderStorage(dir), 'speed-cursor.json'),
    pollMs: 10,
  });
  await source.start({
    emit: (_event, settle) => {
      settle();
      done();
    },
    received: () => {},
    dropped: () => {},
    health: () => {},
    warn: () => {},
  });
  await new Promise((r) => setTimeout(r, 50));
  const t = performance.now();
  await writeFile(log, text, { flag: 'a' });
  await finished;
  const seconds = (performance.now() - t) / 1000;
  await source.stop();
  const f = performance.now();
  const lines = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('"delete_bucket"')).length;
  const floorSeconds = (performance.now() - f) / 1000;
  if (lines !== 1) throw new Error('the speed log is not as written');
  return { count, perSecond: (count + 1) / seconds, floorPerSecond: (count + 1) / floorSeconds };
}
