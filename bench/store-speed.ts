// Audit speed on a live Ceph RGW: n buckets over many accounts with matching DB rows and a few planted
// drifts; a full audit (all rules) against the floor in the same run, and against the naive
// operator's script at one size.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  PutBucketVersioningCommand,
} from '@aws-sdk/client-s3';
import type { Connection } from 'mysql2/promise';
import pLimit from 'p-limit';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { parseAuditConfig } from '../functions/core/config.js';
import { DEFAULT_FORMATS, parseFormats } from '../functions/reports/formats.js';
import { openStorage } from '../functions/state/open-storage.js';
import { auditAndPublish } from '../functions/run.js';
import type { ThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import type { CephCluster, Keys } from '../test/support/ceph.js';
import { createRgwUser } from '../test/support/ceph.js';
import { withKnownAdmins } from '../test/support/audit.js';
import { s3For } from '../test/support/cloud.js';
import { dbUrlText } from '../test/support/database.js';
import { FaultProxy } from '../test/support/fault-proxy.js';
import { bareStore } from './bare-store.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import { auditInOwnProcess } from './cli-peak.js';
import { floorScan } from './floor.js';
import { incrementalNight, onePercent } from './incremental.js';
import { naiveScan } from './naive.js';
import type { Figure } from './results.js';
import { atLeast, atMost, median, round } from './results.js';
import type { ScaleAccount, ScaleBucket } from './scale-cloud.js';
import { insertAccounts, insertBuckets, scaleBucketName } from './scale-cloud.js';

const ACCOUNTS = 50; // RGW allows 1,000 buckets per user by default
const PLANTED = 5;
const CONCURRENCY = 8; // the audit's default scan.concurrency
const CREATE_AT_ONCE = 32;
const FLOOR_TARGET = 1.25;
const NAIVE_TARGET = 10;
const NETWORK_MS = 2;

interface Timed {
  ms: number;
  requests: number;
}

/**
 * One audit as `csdrift audit` runs it (all rules, every report format, the ledger), in this process
 * like the floor and the naive script, so process start-up is in none of them (bench/cold-start.ts
 * measures that).
 */
/** `csdrift audit` in this process: every rule, every report format, the ledger and state in `out`. */
function auditInProcess(db: DbUrl, out: string, config: Record<string, unknown> = {}) {
  return auditAndPublish({
    db,
    // The harness's admins are the operator's known ones: not a store-admin-bypass to plant around.
    config: parseAuditConfig(withKnownAdmins(config)),
    stores: [],
    rules: [],
    trigger: 'cli',
    storage: openStorage(out),
    formats: parseFormats(DEFAULT_FORMATS),
    notifiers: [],
  });
}

async function auditOnce(db: DbUrl, config: Record<string, unknown> = {}): Promise<Timed> {
  const out = await mkdtemp(join(tmpdir(), 'csdrift-bench-audit-'));
  try {
    const started = performance.now();
    const { report } = await auditInProcess(db, out, config);
    const ms = performance.now() - started;
    const counts: Record<string, number> = {};
    for (const f of report.findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1;
    const planted = {
      'bucket-missing-in-store': PLANTED,
      'bucket-unmanaged-in-store': PLANTED,
      'bucket-versioning-mismatch': PLANTED,
    };
    if (report.status !== 'drift' || JSON.stringify(counts) !== JSON.stringify(planted))
      throw new Error(
        `the audit found ${JSON.stringify(counts)} (${report.status}: ${report.coverage.map((c) => c.error ?? c.status).join('; ')}), planted ${JSON.stringify(planted)}`,
      );
    return { ms, requests: report.coverage.reduce((n, c) => n + c.evidence.requests, 0) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export class ScaleCephCloud {
  private keys = new Map<string, Keys>();
  private made = 0;
  constructor(
    readonly ceph: CephCluster,
    readonly conn: Connection,
    readonly accounts: ScaleAccount[],
  ) {}

  async users(): Promise<void> {
    const limit = pLimit(4);
    await Promise.all(
      this.accounts.map((a) =>
        limit(async () => {
          const keys = await createRgwUser(this.ceph.conf, a.uuid, a.name);
          this.keys.set(a.uuid, keys);
        }),
      ),
    );
  }

  /** Creates buckets in the store with their owners' keys, CREATE_AT_ONCE at a time. */
  async inStore(buckets: ScaleBucket[]): Promise<void> {
    const clients = new Map([...this.keys].map(([uuid, k]) => [uuid, s3For(this.ceph.endpoint, k)]));
    const limit = pLimit(CREATE_AT_ONCE);
    try {
      await Promise.all(
        buckets.map((b) =>
          limit(() => clients.get(b.account.uuid)?.send(new CreateBucketCommand({ Bucket: b.name }))),
        ),
      );
    } finally {
      for (const c of clients.values()) c.destroy();
    }
  }

  /** Turns versioning on for buckets `indices` behind CloudStack's back (it says off); their names. */
  async enableVersioning(indices: number[]): Promise<string[]> {
    const limit = pLimit(CREATE_AT_ONCE);
    const clients = new Map([...this.keys].map(([uuid, k]) => [uuid, s3For(this.ceph.endpoint, k)]));
    try {
      return await Promise.all(
        indices.map((i) =>
          limit(async () => {
            const Bucket = scaleBucketName(i);
            const owner = this.accounts[i % this.accounts.length] as ScaleAccount;
            await clients
              .get(owner.uuid)
              ?.send(
                new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }),
              );
            return Bucket;
          }),
        ),
      );
    } finally {
      for (const c of clients.values()) c.destroy();
    }
  }

  /** Grows the cloud to n managed buckets (store and DB), the first PLANTED with versioning drift. */
  async growTo(
    n: number,
    store: Parameters<typeof insertBuckets>[1],
    domain: Parameters<typeof insertBuckets>[2],
  ): Promise<void> {
    const buckets = Array.from({ length: n - this.made }, (_, k): ScaleBucket => {
      const i = this.made + k;
      return {
        name: scaleBucketName(i),
        account: this.accounts[i % this.accounts.length] as ScaleAccount,
        versioning: i < PLANTED, // DB says on; the store was never told
      };
    });
    await this.inStore(buckets);
    await insertBuckets(this.conn, store, domain, buckets);
    this.made = n;
  }
}

export async function storeSpeed(
  server: DbUrl,
  sizes: number[],
  naiveAt: number,
  repeats: number,
  print: (line: string) => void,
): Promise<Figure[]> {
  const cloudAtHand = await cephBenchCloud(server);
  const { ceph, database, domain, store } = cloudAtHand;
  const figures: Figure[] = [];
  try {
    const accounts = await insertAccounts(database.conn, domain, ACCOUNTS);
    const cloud = new ScaleCephCloud(ceph, database.conn, accounts);
    await cloud.users();
    // The planted drift beyond versioning: rows whose buckets are gone, buckets no row knows.
    const gone = Array.from({ length: PLANTED }, (_, i) => ({
      name: `gone-${i}`,
      account: accounts[0] as ScaleAccount,
    }));
    await insertBuckets(database.conn, store, domain, gone);
    await cloud.inStore(
      Array.from({ length: PLANTED }, (_, i) => ({
        name: `stray-${i}`,
        account: accounts[1] as ScaleAccount,
      })),
    );
    await cloud.growTo(1, store, domain);
    const reuse = await connectionReuse(ceph, scaleBucketName(0));
    figures.push(
      {
        id: 'store.getReusedConnectionMs',
        label: 'one GET on a reused connection (stock beast)',
        value: reuse.reused,
        unit: 'ms',
      },
      {
        id: 'store.getFreshConnectionMs',
        label: 'one GET on a fresh connection',
        value: reuse.fresh,
        unit: 'ms',
      },
    );
    for (const n of [...sizes].sort((a, b) => a - b)) {
      const made = performance.now();
      await cloud.growTo(n, store, domain);
      print(
        `  ${n.toLocaleString('en')} buckets planted in ${round((performance.now() - made) / 1000, 0)} s`,
      );
      const names = [...Array.from({ length: n }, (_, i) => scaleBucketName(i)), ...gone.map((g) => g.name)];
      const audits: Timed[] = [];
      const floors: Timed[] = [];
      await floorScan(ceph.endpoint, ceph.systemAdmin, names, CONCURRENCY); // warm the RGW's caches for both
      for (let r = 0; r < repeats; r++) {
        audits.push(await auditOnce(database.db));
        floors.push(await floorScan(ceph.endpoint, ceph.systemAdmin, names, CONCURRENCY));
      }
      const auditMs = median(audits.map((a) => a.ms));
      const floorMs = median(floors.map((f) => f.ms));
      const label = n.toLocaleString('en');
      const ratio = round(auditMs / floorMs);
      figures.push(
        {
          id: `store.${n}.auditMs`,
          label: `audit, all rules, ${label} buckets (median of ${repeats})`,
          value: round(auditMs, 0),
          unit: 'ms',
        },
        {
          id: `store.${n}.floorMs`,
          label: `floor, same requests bare, ${label} buckets`,
          value: round(floorMs, 0),
          unit: 'ms',
        },
        {
          id: `store.${n}.auditOverFloor`,
          label: `audit / floor, ${label} buckets`,
          value: ratio,
          unit: 'x',
          ...(n === Math.max(...sizes) ? { target: atMost(FLOOR_TARGET)(ratio) } : {}),
        },
        {
          id: `store.${n}.requestsPerBucket`,
          label: `store requests per bucket, audit (floor ${round((floors[0]?.requests ?? 0) / n)})`,
          value: round((audits[0]?.requests ?? 0) / n),
          unit: '',
        },
      );
      if (n === Math.max(...sizes)) {
        // The Ceph path's memory: the admin listing (some 800 bytes a bucket) and every rule.
        const { peakBytes } = await auditInOwnProcess(dbUrlText(database.db));
        figures.push({
          id: `store.${n}.peakMiB`,
          label: `peak RSS, csdrift audit on Ceph, all rules, ${label} buckets`,
          value: round(peakBytes / 2 ** 20, 0),
          unit: 'MiB',
        });
      }
      if (n === naiveAt) {
        const naive = await naiveScan(ceph.endpoint, ceph.systemAdmin, names);
        const speedup = round(naive.ms / auditMs, 1);
        figures.push(
          {
            id: `store.${n}.naiveMs`,
            label: `naive script, ${label} buckets`,
            value: round(naive.ms, 0),
            unit: 'ms',
            detail: `${naive.requests} requests`,
          },
          {
            id: `store.${n}.naiveOverAudit`,
            label: `audit speed-up over the naive script, ${label} buckets`,
            value: speedup,
            unit: 'x',
            target: atLeast(NAIVE_TARGET)(speedup),
          },
        );
        figures.push(...(await overANetwork(ceph, database, store.id, names, n)));
      }
      if (n === Math.max(...sizes))
        figures.push(
          ...(await incrementalNight({
            id: `store.${n}`,
            what: `live RGW, ${label} buckets`,
            night: async (out) => {
              const at = performance.now();
              const { report } = await auditInProcess(database.db, out, { scan: { incremental: true } });
              return { report, ms: performance.now() - at };
            },
            change: () => cloud.enableVersioning(onePercent(n, PLANTED)),
            planted: PLANTED,
            print,
          })),
        );
    }
    return figures;
  } finally {
    await cloudAtHand.close();
  }
}

/** One GET, sent 50 times on a reused connection and 50 times on fresh ones: why scan.keepAlive is off. */
export async function connectionReuse(
  ceph: CephCluster,
  bucket: string,
): Promise<{ reused: number; fresh: number }> {
  const perRequest = async (keepAlive: boolean) => {
    const store = bareStore(ceph.endpoint, ceph.systemAdmin, 1, keepAlive);
    try {
      await store.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      const started = performance.now();
      for (let i = 0; i < 50; i++) await store.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      return (performance.now() - started) / 50;
    } finally {
      store.close();
    }
  };
  return { reused: round(await perRequest(true), 1), fresh: round(await perRequest(false), 1) };
}

/**
 * The same comparison with the store one network hop away: a proxy holds each request 2 ms, as a
 * store in another rack would. Here the store shares this machine's two cores with the auditor, so
 * on loopback both approaches are bound by its CPU; across a network, waiting dominates.
 */
async function overANetwork(
  ceph: CephCluster,
  database: ThrowawayDatabase,
  storeId: number,
  names: string[],
  n: number,
): Promise<Figure[]> {
  const proxy = await new FaultProxy(ceph.endpoint).start();
  proxy.plan = () => ({ kind: 'slow', ms: NETWORK_MS });
  try {
    // The store reached through the proxy as an operator would point the audit at it: by config.
    // Moving object_store.url instead would make every row's bucket_url stale (bucket-url-stale).
    const audit = await auditOnce(database.db, {
      stores: { [String(storeId)]: { endpoint: proxy.endpoint } },
    });
    const naive = await naiveScan(proxy.endpoint, ceph.systemAdmin, names);
    const speedup = round(naive.ms / audit.ms, 1);
    const label = n.toLocaleString('en');
    return [
      {
        id: `store.${n}.network.auditMs`,
        label: `audit, ${label} buckets, ${NETWORK_MS} ms away`,
        value: round(audit.ms, 0),
        unit: 'ms',
      },
      {
        id: `store.${n}.network.naiveMs`,
        label: `naive script, ${label} buckets, ${NETWORK_MS} ms away`,
        value: round(naive.ms, 0),
        unit: 'ms',
      },
      {
        id: `store.${n}.network.naiveOverAudit`,
        label: `audit speed-up over the naive script, ${NETWORK_MS} ms away`,
        value: speedup,
        unit: 'x',
        target: atLeast(NAIVE_TARGET)(speedup),
      },
    ];
  } finally {
    await proxy.stop();
  }
}
