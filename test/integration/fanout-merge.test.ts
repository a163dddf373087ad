// The fan-out's merge step (functions/handlers/fanout.ts) over 100 shard results, in a process of its
// own as one Lambda invocation: a bucket of the harness's RGW stands in for the report bucket and
// holds the shard manifest, the shards' judgements and the Distributed Map's result files
// (test/support/map-run.ts); the merge reads them back one at a time and stays within the audit's
// memory budget (200 MB). A shard missing or failed stops it: a store is never judged on part of its
// shards. (s3rver, the demo's store, would not do: it ignores the conditional writes the ledger needs.)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ShardJudgement } from '../../functions/audit.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { StorePrincipal, StoreRecord, StoreScan } from '../../functions/core/model.js';
import type { Report } from '../../functions/core/report.js';
import { CloudStackSeed } from '../../functions/demo/cloudstack-seed.js';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';
import { SecretsStandIn } from '../support/aws-standins.js';
import { freshCloudStackDb } from '../support/database.js';
import { wipeStore } from '../support/ceph.js';
import { bucketName, s3For } from '../support/cloud.js';
import { dbSecret, lambdaEnv } from '../support/lambda.js';
import type { ObjectPlace } from '../support/map-run.js';
import { playMapRun } from '../support/map-run.js';

const run = promisify(execFile);
const CHILD = new URL('../support/fanout-merge-child.mjs', import.meta.url).pathname;
const SHARDS = 100;
const PARTITIONS_PER_SHARD = 10;
const USERS = 10_000; // a store of a million buckets over ten thousand users
const STRAYS_PER_SHARD = 10; // a thousand findings: a report of tens of thousands is not yet streamed
const BUDGET_BYTES = 200 * 2 ** 20;
const ceph = inject('ceph');

describe('the fan-out merge over 100 shard results', () => {
  let database: ThrowawayDatabase;
  let s3: S3Client;
  let reports: string;
  let secrets: SecretsStandIn;
  let store: StoreRecord;
  const runId = '20270110T020000Z-merge1';
  const startedAt = '2027-01-10T02:00:00.000Z';

  beforeAll(async () => {
    database = await freshCloudStackDb('4.21');
    const seed = new CloudStackSeed(database.conn);
    const seeded = await seed.store({ name: 'ceph-big', provider: 'Ceph', url: 'http://ceph-big.invalid' });
    store = {
      ...seeded,
      provider: 'Ceph',
      endpoint: 'http://ceph-big.invalid',
      credentials: null,
      skip: false,
      usedBytes: null,
      allocatedSize: null,
      totalSize: null,
    } as StoreRecord;
    await wipeStore(ceph.conf);
    reports = bucketName('reports');
    s3 = s3For(ceph.endpoint, ceph.systemAdmin);
    await s3.send(new CreateBucketCommand({ Bucket: reports }));
    secrets = await new SecretsStandIn({ 'csdrift/db': dbSecret(database.db) }).start();
  });
  afterAll(async () => {
    s3.destroy();
    await Promise.all([secrets.stop(), database.drop()]);
    await wipeStore(ceph.conf);
  });

  const place = (): ObjectPlace => ({
    get: async (Key) =>
      (await (await s3.send(new GetObjectCommand({ Bucket: reports, Key }))).Body?.transformToString()) ?? '',
    put: async (Key, Body) => void (await s3.send(new PutObjectCommand({ Bucket: reports, Key, Body }))),
  });

  /** Shard k as its scan step would write it: its partitions' findings and coverage, totals and summary. */
  function shardJudgement(k: number): ShardJudgement {
    const at = startedAt;
    const strays = Array.from({ length: STRAYS_PER_SHARD }, (_, i) => ({
      name: `stray-${k}-${i}`,
      owner: `u-${i}`,
    }));
    const scan: StoreScan = {
      storeId: store.id,
      status: 'verified',
      startedAt: at,
      finishedAt: at,
      listingComplete: true,
      buckets: strays,
      absenceChecks: {},
      requests: 10_000,
      capabilities: ['owner', 'usage', 'quota', 'versioning', 'objectLock', 'policy'],
    };
    const judged = evaluate({
      inventory: {
        schema: '4.21',
        database: 'cloud',
        readAt: at,
        stores: [store],
        buckets: [],
        accounts: [],
      },
      scans: [scan],
      recheckedRows: [],
      config: parseAuditConfig({}),
      rules: ['bucket-unmanaged-in-store'],
      now: new Date(at),
      pass: 'partition',
    });
    const holdings: ShardJudgement['totals']['holdings'] = {};
    for (let u = 0; u < USERS; u++)
      holdings[`u-${u}`] = { count: 10, examples: [`b-${k}-${u}-0`, `b-${k}-${u}-1`] };
    const principals: StorePrincipal[] = Array.from({ length: USERS }, (_, u) => ({
      kind: 'user',
      name: `u-${u}`,
      enabled: true,
      keys: [{ digest: (u.toString(16) + '0'.repeat(32)).slice(0, 32), last4: 'ABCD', enabled: true }],
      rights: [],
    }));
    const { buckets: _buckets, ...summary } = scan;
    return {
      storeId: store.id,
      findings: judged.findings,
      coverage: Array.from(
        { length: PARTITIONS_PER_SHARD },
        () => judged.coverage[0] as ShardJudgement['coverage'][0],
      ),
      totals: { activeRows: 10_000, activeSize: 10_000 * 1024, activeQuotaGb: 0, holdings },
      summary: { ...summary, buckets: [], ...(k === 0 ? { principals: { value: { principals } } } : {}) },
      rows: 10_000,
      rechecked: 0,
    };
  }

  /** The list step's manifest and the map run, as the state machine leaves them for the merge. */
  async function mapRun(skip?: number) {
    const items = Array.from({ length: SHARDS }, (_, shard) => ({
      store: store.uuid,
      shard,
      shards: SHARDS,
      partitions: SHARDS * PARTITIONS_PER_SHARD,
    }));
    const manifest = { key: `audits/fanout/${runId}/manifest.json` };
    await place().put(manifest.key, JSON.stringify(items));
    const results = await playMapRun(
      place(),
      { runId, startedAt, input: { notify: false }, manifest },
      async (item) => {
        const shard = item.shard as number;
        const key = `fanout/${runId}/shards/${store.uuid}/${shard}.json`;
        await place().put(`audits/${key}`, JSON.stringify(shardJudgement(shard)));
        return {
          key: shard === skip ? `fanout/${runId}/shards/${store.uuid}/0.json` : key,
          status: 'verified',
        };
      },
      { prefix: 'audits/fanout-results', concurrency: 10 },
    );
    return { manifest, results: results.ResultWriterDetails };
  }

  async function merge(payload: Record<string, unknown>): Promise<{ result: unknown; peak: number }> {
    const env = { ...process.env, ...lambdaEnv(ceph, secrets.url, { REPORT_URI: `s3://${reports}/audits` }) };
    // The heap capped tighter than `csdrift audit` caps its own (bin/csdrift.js): V8 would otherwise let garbage
    // pile up towards a limit sized for the machine, and the peak would say nothing of what is held.
    const node = ['--max-old-space-size=160', '--max-semi-space-size=4'];
    const { stdout } = await run(process.execPath, [...node, CHILD, JSON.stringify(payload)], {
      env,
      maxBuffer: 64 * 2 ** 20,
      timeout: 300_000,
    });
    const [result, peak] = stdout.trim().split('\n').slice(-2);
    return { result: JSON.parse(result as string), peak: Number(peak) };
  }

  const mergeStep = (shape: Awaited<ReturnType<typeof mapRun>>) => ({
    step: 'merge',
    runId,
    startedAt,
    input: { notify: false },
    manifest: shape.manifest,
    results: shape.results,
  });

  it('merges them one at a time into one report, within the memory budget', async () => {
    const { result, peak } = await merge(mergeStep(await mapRun()));
    expect(result).toMatchObject({ runId, status: 'drift' });
    expect(peak).toBeLessThanOrEqual(BUDGET_BYTES);
    const report = JSON.parse(await place().get('audits/latest/report.json')) as Report;
    expect(report.findings.filter((f) => f.rule === 'bucket-unmanaged-in-store')).toHaveLength(
      SHARDS * STRAYS_PER_SHARD,
    );
    const coverage = report.coverage[0];
    expect(coverage?.status).toBe('verified');
    expect(coverage?.evidence.requests).toBe(SHARDS * 10_000);
    expect(coverage?.bucketsInStore).toBe(SHARDS * PARTITIONS_PER_SHARD * STRAYS_PER_SHARD);
    expect(report.cloudstack.bucketRowsRead).toBe(SHARDS * 10_000);
    console.log(`merge of ${SHARDS} shard results: peak RSS ${Math.round(peak / 2 ** 20)} MiB`);
  }, 300_000);

  it('refuses a map run that lost a shard, naming it', async () => {
    await expect(merge(mergeStep(await mapRun(37)))).rejects.toThrow(
      new RegExp(
        `returned ${SHARDS} shard result\\(s\\) for ${SHARDS} in the manifest \\(missing fanout/${runId}/shards/[^/]+/37\\.json\\)`,
      ),
    );
  }, 300_000);
});
