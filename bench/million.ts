// A store of up to a million buckets: a stand-in RGW admin endpoint (bench/rgw-standin.ts) serving a
// generated store of n buckets over n/100 users at the documents' real size, and MariaDB with the
// matching n rows. A full `csdrift audit` in its own process (peak RSS, wall time) against the floor
// (the same requests issued bare at the same concurrency), at each size, and how the peak grows.
// One run of each says little on a shared 2-core machine: the same floor took 15 to 22 s at 100,000
// buckets, and the same audit's peak moved by 12 MiB. So at each size the floor and the audit take
// turns, floor first (the stand-in's own warm-up, counted like the others), `repeats` times each:
// times are the best of the runs (the least disturbed), peaks the highest (the budget is a ceiling),
// and every run's figure is in the detail.
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
import { atMost, median, round } from './results.js';
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
  /** Every audit's peak RSS and wall time, and every floor's time, in the order run. */
  peaks: number[];
  audits: number[];
  floors: number[];
  requests: number;
  floorRequests: number;
  incremental: Figure[];
}

async function oneSize(
  server: DbUrl,
  buckets: number,
  repeats: number,
  print: (line: string) => void,
): Promise<Night> {
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
    const names = Array.from({ length: buckets }, (_, i) => scaleBucketName(i)).concat(
      gone.map((g) => g.name),
    );
    const planted = {
      'bucket-missing-in-store': PLANTED,
      'bucket-unmanaged-in-store': PLANTED,
      'bucket-versioning-mismatch': buckets ? PLANTED : 0,
    };
    const wanted = Object.fromEntries(Object.entries(planted).filter(([, c]) => c));
    const peaks: number[] = [];
    const audits: number[] = [];
    const floors: number[] = [];
    let requests = 0;
    let floorRequests = 0;
    for (let run = 0; run < repeats; run++) {
      const floor = await floorScan(standin.endpoint, DEMO_STORE_KEYS, names, CONCURRENCY);
      floors.push(floor.ms);
      floorRequests = floor.requests;
      await standin.requests(); // the count starts again for the audit
      const started = performance.now();
      const { report, peakBytes } = await auditInOwnProcess(dbUrlText(database.db), ['--config', config]);
      audits.push(performance.now() - started);
      peaks.push(peakBytes);
      const counts: Record<string, number> = {};
      for (const f of report.findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1;
      if (JSON.stringify(counts) !== JSON.stringify(wanted))
        throw new Error(
          `the audit of ${n} buckets found ${JSON.stringify(counts)} (${report.status}: ${report.coverage.map((c) => c.error ?? c.status).join('; ')}), planted ${JSON.stringify(wanted)}`,
        );
      requests = await standin.requests();
      print(
        `  ${n}, run ${run + 1} of ${repeats}: floor ${round(floor.ms / 1000, 1)} s, ${floor.requests} requests; audit ${round((audits.at(-1) ?? 0) / 1000, 1)} s, ${requests} requests, peak ${round(peakBytes / 2 ** 20, 0)} MiB`,
      );
    }
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
      peaks,
      audits,
      floors,
      requests,
      floorRequests,
      incremental,
    };
  } finally {
    await standin?.stop();
    await database.drop();
  }
}

const mib = (bytes: number) => round(bytes / 2 ** 20, 0);
const seconds = (ms: number) => round(ms / 1000, 1);
const listed = (values: number[], as: (v: number) => number) => values.map(as).join(', ');

export async function millionBuckets(
  server: DbUrl,
  sizes: [number, number],
  /** Runs of the audit and the floor at each size: the empty store's, the smaller's, the larger's. */
  repeats: [number, number, number],
  print: (line: string) => void,
): Promise<Figure[]> {
  const [small, large] = sizes;
  const empty = await oneSize(server, 0, repeats[0], print);
  const low = await oneSize(server, small, repeats[1], print);
  const high = await oneSize(server, large, repeats[2], print);
  // The trend from the middle run of each size; the budget from the highest.
  const typical = (night: Night) => median(night.peaks);
  const exponent = round(
    Math.log((typical(high) - typical(empty)) / Math.max(1, typical(low) - typical(empty))) /
      Math.log(large / small),
  );
  const n = (x: number) => x.toLocaleString('en');
  const runs = (night: Night) => `${night.peaks.length} run${night.peaks.length > 1 ? 's' : ''}`;
  const figures: Figure[] = [
    {
      id: 'million.emptyMiB',
      label: 'stand-in RGW: peak RSS, audit of an empty store (median)',
      value: mib(typical(empty)),
      unit: 'MiB',
      detail: `${runs(empty)}: ${listed(empty.peaks, mib)} MiB`,
    },
  ];
  for (const night of [low, high]) {
    const peak = mib(Math.max(...night.peaks));
    const audit = Math.min(...night.audits);
    const floor = Math.min(...night.floors);
    const ratio = round(audit / floor);
    figures.push(
      {
        id: `million.${night.buckets}.peakMiB`,
        label: `stand-in RGW: peak RSS, full audit of ${n(night.buckets)} buckets (highest run)`,
        value: peak,
        unit: 'MiB',
        target: atMost(RSS_TARGET_MB)(peak),
        detail: `${runs(night)}: ${listed(night.peaks, mib)} MiB`,
      },
      {
        id: `million.${night.buckets}.auditS`,
        label: `stand-in RGW: full audit of ${n(night.buckets)} buckets (own process, best run)`,
        value: seconds(audit),
        unit: 's',
        detail: `${runs(night)}: ${listed(night.audits, seconds)} s; ${night.requests} store requests, the floor sent ${night.floorRequests}`,
      },
      {
        id: `million.${night.buckets}.auditOverFloor`,
        label: `stand-in RGW: audit ÷ floor, ${n(night.buckets)} buckets (best run of each)`,
        value: ratio,
        unit: '×',
        target: atMost(FLOOR_TARGET)(ratio),
        detail: `floor ${listed(night.floors, seconds)} s (the same requests bare, ${CONCURRENCY} at a time), taking turns with the audit; the median runs' ratio ${round(median(night.audits) / median(night.floors))}`,
      },
      ...night.incremental,
    );
  }
  figures.push({
    id: 'million.growthExponent',
    label: `stand-in RGW: growth of peak RSS above the empty audit, ${n(small)} to ${n(large)} (n^k, median runs)`,
    value: exponent,
    unit: 'k',
    target: atMost(GROWTH_TARGET)(exponent),
    detail: `${mib(typical(empty))}, ${mib(typical(low))} and ${mib(typical(high))} MiB`,
  });
  return figures;
}
