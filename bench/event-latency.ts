// Continuous mode on a live Ceph RGW and the real RabbitMQ: the time from a failed deleteBucket event
// (CloudStack's bus message for the seed case) to its bucket-missing-in-store task on SNS, one event
// at a time, with the shipped debounce; and the store requests each event costs. The floor is the
// same targeted audit run directly, in the same run: what the watcher adds is the debounce, the bus
// and the telling.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { parseAuditConfig } from '../functions/core/config.js';
import type { Watcher } from '../functions/watch/watcher.js';
import { SnsStandIn } from '../test/support/aws-standins.js';
import { AMQP_URL, CloudStackBus } from '../test/support/cloudstack-events.js';
import type { Figure } from './results.js';
import { atMost, median, round } from './results.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import { insertAccounts, insertBuckets } from './scale-cloud.js';
import { benchWatcher, eventRunCosts, percentile, targetedAuditFloor } from './watch-harness.js';

const TARGET_SECONDS = 60;

export async function eventLatency(
  server: DbUrl,
  events: number,
  otherRows: number,
  print: (line: string) => void,
): Promise<Figure[]> {
  const cloud = await cephBenchCloud(server);
  const { database, domain, store } = cloud;
  const dir = await mkdtemp(join(tmpdir(), 'csdrift-bench-events-'));
  const sns = await new SnsStandIn().start();
  const id = randomBytes(4).toString('hex');
  const exchange = `cloudstack-events-${id}`;
  const queue = `csdrift-bench-${id}`;
  const bus = await CloudStackBus.open(exchange);
  let watcher: Watcher | undefined;
  try {
    const [account] = await insertAccounts(database.conn, domain, 1);
    if (!account) throw new Error('no account');
    // A cloud of other rows, which a targeted audit must never read, and the buckets the events name.
    await insertBuckets(
      database.conn,
      store,
      domain,
      Array.from({ length: otherRows }, (_, i) => ({ name: `other-${i}`, account })),
    );
    const gone = Array.from({ length: events }, (_, i) => ({ name: `gone-${i}`, account }));
    await insertBuckets(database.conn, store, domain, gone);
    const [rows] = await database.conn.query(`SELECT name, uuid FROM bucket WHERE name LIKE 'gone-%'`);
    const uuidOf = new Map((rows as { name: string; uuid: string }[]).map((r) => [r.name, r.uuid]));

    const config = parseAuditConfig({
      watch: { listen: '127.0.0.1:0', cloudstack: { amqp: { url: AMQP_URL, exchange, queue } } },
    });
    const debounce = config.watch?.debounceSeconds ?? 10;
    // The floor: the same targeted audit, run directly.
    const floors = await targetedAuditFloor(database.db, config, 'gone-0');
    const started = await benchWatcher(database.db, config, sns, dir);
    watcher = started.watcher;
    for (let t = Date.now(); Date.now() - t < 30_000;) {
      if ((await bus.queue(queue)).consumerCount) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const latencies: number[] = [];
    for (const { name } of gone) {
      const before = sns.published.length;
      const at = Date.now();
      await bus.publish({
        type: 'BUCKET.DELETE',
        bucketUuid: uuidOf.get(name) ?? '',
        failed: true,
        at: new Date(at),
      });
      while (sns.published.length === before) await new Promise((r) => setTimeout(r, 20));
      latencies.push((Date.now() - at) / 1000);
      if (!sns.published.at(-1)?.message.includes(name)) throw new Error(`the task for ${name} did not come`);
    }
    const { requests, rowsRead } = await eventRunCosts(started.storage);
    const floor = median(floors);
    const med = median(latencies);
    print(`  ${events} events, debounce ${debounce} s, a cloud of ${otherRows + events} bucket rows`);
    return [
      {
        id: 'events.toTaskMedianSeconds',
        label: `failed deleteBucket event to SNS task, median of ${events}`,
        value: round(med, 1),
        unit: 's',
        target: atMost(TARGET_SECONDS)(med),
        detail: `debounce ${debounce} s included`,
      },
      {
        id: 'events.toTaskP95Seconds',
        label: `failed deleteBucket event to SNS task, p95 of ${events}`,
        value: round(percentile(latencies, 95), 1),
        unit: 's',
        target: atMost(TARGET_SECONDS)(percentile(latencies, 95)),
      },
      {
        id: 'events.beyondDebounceVsFloor',
        label: 'event to task beyond the debounce / the targeted audit alone',
        value: round((med - debounce) / floor, 2),
        unit: 'x',
        detail: `floor ${round(floor, 3)} s`,
      },
      {
        id: 'events.storeRequestsPerEvent',
        label: 'store requests per event',
        value: round(requests / events, 2),
        unit: '',
      },
      {
        id: 'events.bucketRowsReadPerEvent',
        label: `bucket rows read per event (of ${otherRows + events})`,
        value: round(rowsRead / events, 2),
        unit: '',
      },
    ];
  } finally {
    await watcher?.stop();
    await bus.deleteQueue(queue);
    await bus.close();
    await sns.stop();
    await cloud.close(); // first: the cluster and the database must not outlive a failed clean-up
    await rm(dir, { recursive: true, force: true });
  }
}
