// A store of up to a million buckets: a stand-in RGW admin endpoint (bench/rgw-standin.ts) serving a
// generated store of n buckets over n/100 users at the documents' real size, and MariaDB with the
// matching n rows. A full `csdrift audit` in its own process (peak RSS, wall time) against the floor
// (the same requests issued bare at the same concurrency), at each size, and how the peak grows.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { CloudStackSeed } from '../functions/demo/cloudstack-seed.js';
import { createThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import { DEMO_STORE_KEYS } from '../functions/demo/sample-cloud.js';
import { dbUrlText } from '../test/support/database.js';
import { auditInOwnProcess } from './cli-peak.js';
import { floorScan } from './floor.js';
import { incrementalNight, onePercent } from './incremental.js';
import type { Figure } from './results.js';
import { atMost, round } from './results.js';
import { standinAccessKey } from './rgw-standin.js';
import { StandinProcess } from './standin-process.js';
import type { ScaleAccount, ScaleBucket } from './scale-cloud.js';
import { insertAccounts, insertBuckets, scaleBucketName } from './scale-cloud.js';

const PLANTED = 5;
const BUCKETS_PER_USER = 100;
const CONCURRENCY = 8; // the audit's default scan.concurrency
const RSS_TARGET_MB = 200;
const FLOOR_TARGET = 1.1;
const GROWTH_TARGET = 0.1;

interface Night {
  buckets: number;
  peakBytes: number;
  auditMs: number;
  floorMs: number;
  requests: number;
  floorRequests: number;
  incremental: Figure[];
}

async function oneSize(server: DbUrl, buckets: number, print: (line: string) => void): Promise<Night> {
  const database = await createThrowawayDatabase(server, '4.21', 'csdrift_bench');
  let standin: StandinProcess | undefined;
  try {
    const made = performance.now();
    const seed = new CloudStackSeed(database.conn);
    const domain = await seed.domain('ROOT');
    const users = Math.max(2, Math.ceil(buckets / BUCKETS_PER_USER));
    const accounts = await insertAccounts(database.conn, domain, users);
    const strays = Array.from({ length: PLANTED }, (_, i) => `stray-${i}`);
    standin = await StandinProcess.start({
      uids: accounts.map((a) => a.uuid),
      buckets,
      strays,
      versioned: new Set(),
    });
    const store = await seed.store({
      name: 'ceph-1',
      provider: 'Ceph',
      url: standin.endpoint,
      ...DEMO_STORE_KEYS,
    });
    const gone = Array.from({ length: PLANTED }, (_, i) => ({
      name: `gone-${i}`,
      account: accounts[0] as ScaleAccount,
      accessKey: standinAccessKey((accounts[0] as ScaleAccount).uuid),
    }));
    await insertBuckets(database.conn, store, domain, gone);
    // Inserted in slices, so that the bench itself never holds a million rows.
    for (let from = 0; from < buckets; from += 50_000) {
      const slice = Array.from({ length: Math.min(50_000, buckets - from) }, (_, k): ScaleBucket => {
        const i = from + k;
        const account = accounts[i % accounts.length] as ScaleAccount;
        return {
          name: scaleBucketName(i),
          account,
          versioning: i < PLANTED, // DB says on; the store was never told
          // Every row's key is compared with its owner's store keys (bucket-credentials-stale).
          accessKey: standinAccessKey(account.uuid),
        };
      });
      await insertBuckets(database.conn, store, domain, slice);
    }
    const n = buckets.toLocaleString('en');
    print(
      `  ${n} buckets over ${users.toLocaleString('en')} users planted in ${round((performance.now() - made) / 1000, 0)} s`,
    );

    await standin.requests();
    // As an operator of such a store configures it: a listing of a million buckets and more.
    const config = join(await mkdtemp(join(tmpdir(), 'csdrift-bench-million-')), 'config.json');
    await writeFile(config, JSON.stringify({ scan: { maxBuckets: Math.max(1_000_000, 2 * buckets) } }));
    const started = performance.now();
    const { report, peakBytes } = await auditInOwnProcess(dbUrlText(database.db), ['--config', config]);
    const auditMs = performance.now() - started;
    const counts: Record<string, number> = {};
    for (const f of report.findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1;
    const planted = {
      'bucket-missing-in-store': PLANTED,
      'bucket-unmanaged-in-store': PLANTED,
      'bucket-versioning-mismatch': buckets ? PLANTED : 0,
    };
    const wanted = Object.fromEntries(Object.entries(planted).filter(([, c]) => c));
    if (JSON.stringify(counts) !== JSON.stringify(wanted))
      throw new Error(
        `the audit of ${n} buckets found ${JSON.stringify(counts)} (${report.status}: ${report.coverage.map((c) => c.error ?? c.status).join('; ')}), planted ${JSON.stringify(wanted)}`,
      );
    const requests = await standin.requests();
    const names = Array.from({ length: buckets }, (_, i) => scaleBucketName(i)).concat(
      gone.map((g) => g.name),
    );
    const floor = await floorScan(standin.endpoint, DEMO_STORE_KEYS, names, CONCURRENCY);
    print(
      `  ${n}: audit ${round(auditMs / 1000, 1)} s, ${requests} requests, peak ${round(peakBytes / 2 ** 20, 0)} MiB; floor ${round(floor.ms / 1000, 1)} s, ${floor.requests} requests`,
    );
    const incremental = buckets
      ? await incrementalNight({
          id: `million.${buckets}`,
          what: `stand-in RGW, ${n} buckets`,
          night: async (out) => {
            await writeFile(
              config,
              JSON.stringify({ scan: { maxBuckets: Math.max(1_000_000, 2 * buckets), incremental: true } }),
            );
            const at = performance.now();
            const { report } = await auditInOwnProcess(dbUrlText(database.db), ['--config', config], out);
            return { report, ms: performance.now() - at };
          },
          change: async () => {
            const changed = onePercent(buckets, PLANTED);
            await standin?.change(changed);
            return changed.map((i) => scaleBucketName(i));
          },
          planted: PLANTED,
          print,
        })
      : [];
    await rm(dirname(config), { recursive: true, force: true });
    return {
      buckets,
      peakBytes,
      auditMs,
      floorMs: floor.ms,
      requests,
      floorRequests: floor.requests,
      incremental,
    };
  } finally {
    await standin?.stop();
    await database.drop();
  }
}

export async function millionBuckets(
  server: DbUrl,
  sizes: [number, number],
  print: (line: string) => void,
): Promise<Figure[]> {
  const [small, large] = sizes;
  const empty = await oneSize(server, 0, print);
  const low = await oneSize(server, small, print);
  const high = await oneSize(server, large, print);
  const mb = (night: Night) => round(night.peakBytes / 2 ** 20, 0);
  const exponent = round(
    Math.log((high.peakBytes - empty.peakBytes) / Math.max(1, low.peakBytes - empty.peakBytes)) /
      Math.log(large / small),
  );
  const n = (x: number) => x.toLocaleString('en');
  const figures: Figure[] = [
    {
      id: 'million.emptyMiB',
      label: 'stand-in RGW: peak RSS, audit of an empty store',
      value: mb(empty),
      unit: 'MiB',
    },
  ];
  for (const night of [low, high]) {
    const ratio = round(night.auditMs / night.floorMs);
    figures.push(
      {
        id: `million.${night.buckets}.peakMiB`,
        label: `stand-in RGW: peak RSS, full audit of ${n(night.buckets)} buckets`,
        value: mb(night),
        unit: 'MiB',
        target: atMost(RSS_TARGET_MB)(mb(night)),
      },
      {
        id: `million.${night.buckets}.auditS`,
        label: `stand-in RGW: full audit of ${n(night.buckets)} buckets (own process)`,
        value: round(night.auditMs / 1000, 1),
        unit: 's',
        detail: `${night.requests} store requests; the floor sent ${night.floorRequests}`,
      },
      {
        id: `million.${night.buckets}.auditOverFloor`,
        label: `stand-in RGW: audit ÷ floor, ${n(night.buckets)} buckets`,
        value: ratio,
        unit: '×',
        target: atMost(FLOOR_TARGET)(ratio),
        detail: `floor ${round(night.floorMs / 1000, 1)} s: the same requests bare, ${CONCURRENCY} at a time`,
      },
      ...night.incremental,
    );
  }
  figures.push({
    id: 'million.growthExponent',
    label: `stand-in RGW: growth of peak RSS above the empty audit, ${n(small)} to ${n(large)} (n^k)`,
    value: exponent,
    unit: 'k',
    target: atMost(GROWTH_TARGET)(exponent),
  });
  return figures;
}
