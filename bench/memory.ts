// Peak memory of a whole `csdrift audit` (its own process) over an inventory of n DB buckets and a
// store of n buckets served by s3rver, at several n, and how the peak grows with n.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import S3rver from 's3rver';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { RULE_IDS, RULES } from '../functions/core/rules/index.js';
import { CloudStackSeed } from '../functions/demo/cloudstack-seed.js';
import { createThrowawayDatabase } from '../functions/demo/throwaway-db.js';
import { DEMO_STORE_KEYS } from '../functions/demo/sample-cloud.js';
import { dbUrlText } from '../test/support/database.js';
import { auditInOwnProcess } from './cli-peak.js';
import type { Figure } from './results.js';
import { atMost, round } from './results.js';
import { insertAccounts, insertBuckets, scaleBucketName, spreadOver } from './scale-cloud.js';

const PLANTED = 5;
const TARGET_MB = 300;

/** s3rver answers ListBuckets and HeadBucket only: the rules that need nothing more. */
const LISTING_RULES = RULE_IDS.filter((id) => !RULES[id].scan?.attributes?.length);

interface Measured {
  buckets: number;
  peakBytes: number;
}

async function peakOfAudit(server: DbUrl, buckets: number): Promise<Measured> {
  const work = await mkdtemp(join(tmpdir(), 'csdrift-bench-mem-'));
  const storeDir = join(work, 'store');
  const database = await createThrowawayDatabase(server, '4.21', 'csdrift_bench');
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: storeDir });
  try {
    // A bucket in s3rver's file store is a folder: made directly, 100,000 take seconds, not minutes.
    await mkdir(storeDir);
    const limit = pLimit(64);
    const inStore = Array.from({ length: buckets }, (_, i) => i).filter((i) => i >= PLANTED);
    const unmanaged = Array.from({ length: PLANTED }, (_, i) => `unmanaged-${i}`);
    await Promise.all(
      [...inStore.map(scaleBucketName), ...unmanaged].map((n) => limit(() => mkdir(join(storeDir, n)))),
    );
    const { port } = (await s3rver.run()) as { port: number };
    const seed = new CloudStackSeed(database.conn);
    const domain = await seed.domain('ROOT');
    const store = await seed.store({
      name: 'minio-1',
      provider: 'MinIO',
      url: `http://127.0.0.1:${port}`,
      ...DEMO_STORE_KEYS,
    });
    const accounts = await insertAccounts(database.conn, domain, Math.max(1, Math.ceil(buckets / 100)));
    await insertBuckets(database.conn, store, domain, spreadOver(accounts, buckets));
    const { report, peakBytes } = await auditInOwnProcess(
      dbUrlText(database.db),
      LISTING_RULES.flatMap((r) => ['--rule', r]),
    );
    const count = (rule: string) => report.findings.filter((f) => f.rule === rule).length;
    if (
      buckets &&
      (count('bucket-missing-in-store') !== PLANTED || count('bucket-unmanaged-in-store') !== PLANTED)
    )
      throw new Error(`the audit of ${buckets} buckets did not find the planted drift`);
    return { buckets, peakBytes };
  } finally {
    await s3rver.close().catch(() => {});
    await database.drop();
    await rm(work, { recursive: true, force: true });
  }
}

export async function memory(server: DbUrl, sizes: [number, number]): Promise<Figure[]> {
  const [small, large] = sizes;
  const empty = await peakOfAudit(server, 0);
  const low = await peakOfAudit(server, small);
  const high = await peakOfAudit(server, large);
  const mb = (m: Measured) => round(m.peakBytes / 2 ** 20, 0);
  // Peak = fixed cost + a part that grows with n; n^k growth of that part: k <= 1 is linear or better.
  const exponent = round(
    Math.log((high.peakBytes - empty.peakBytes) / Math.max(1, low.peakBytes - empty.peakBytes)) /
      Math.log(large / small),
  );
  const n = (x: number) => x.toLocaleString('en');
  return [
    { id: 'memory.emptyMiB', label: 'peak RSS, audit of an empty inventory', value: mb(empty), unit: 'MiB' },
    {
      id: `memory.${small}MiB`,
      label: `peak RSS, ${n(small)} DB and store buckets`,
      value: mb(low),
      unit: 'MiB',
    },
    {
      id: `memory.${large}MiB`,
      label: `peak RSS, ${n(large)} DB and store buckets`,
      value: mb(high),
      unit: 'MiB',
      target: atMost(TARGET_MB)(mb(high)),
    },
    {
      id: 'memory.growthExponent',
      label: `growth of the per-bucket part, ${n(small)} to ${n(large)} (n^k)`,
      value: exponent,
      unit: 'k',
      target: atMost(1)(exponent),
      detail: `${round((high.peakBytes - empty.peakBytes) / large, 0)} bytes per bucket at ${n(large)}`,
    },
  ];
}
