// The watcher's memory under a backlog, at the full size: the built `csdrift watch` on a live
// RGW while 1,000,000 object-level ops-log lines arrive behind one unsettled delete, and while the
// CloudStack database is down for 5 minutes with events arriving (deletes of buckets no one has,
// object lines, five seed-case deletes). Peak RSS (VmHWM) against the 256 MiB budget, the longest
// /healthz answer, and whether anything was lost (one task per seed-case bucket, every line settled).
// test/integration/watch-memory.test.ts asserts the same bounds on a shorter outage.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { SnsStandIn } from '../test/support/aws-standins.js';
import { CephCloud } from '../test/support/cloud.js';
import type { BacklogRun } from '../test/support/watch-memory.js';
import { databaseOutage, opsLogFlood } from '../test/support/watch-memory.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import type { Figure } from './results.js';
import { atMost, round } from './results.js';

const BUDGET_MIB = 256;
const HEALTHZ_MS = 1000;

export async function watchMemory(
  server: DbUrl,
  sizes: { lines: number; outageSeconds: number; ghosts: number },
  print: (line: string) => void,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const report = (id: string, what: string, run: BacklogRun) => {
    print(
      `${what}: peak RSS ${round(run.peakRssMiB, 0)} MiB, longest /healthz ${round(run.longestHealthzMs, 0)} ms, ${run.tasks} task(s), settled to the end ${run.settledToEnd}, paused ${run.paused}, ${round(run.seconds, 1)} s`,
    );
    figures.push(
      {
        id: `${id}-peak-rss`,
        label: `${what}: peak RSS`,
        value: round(run.peakRssMiB, 0),
        unit: 'MiB',
        target: atMost(BUDGET_MIB)(run.peakRssMiB),
      },
      {
        id: `${id}-healthz`,
        label: `${what}: longest /healthz answer`,
        value: round(run.longestHealthzMs, 0),
        unit: 'ms',
        target: atMost(HEALTHZ_MS)(run.longestHealthzMs),
      },
      {
        id: `${id}-lost`,
        label: `${what}: events lost (tasks missing, lines unsettled)`,
        value: (run.settledToEnd ? 0 : 1) + Math.max(0, (id === 'outage' ? 5 : 1) - run.tasks),
        unit: '',
        target: atMost(0)((run.settledToEnd ? 0 : 1) + Math.max(0, (id === 'outage' ? 5 : 1) - run.tasks)),
      },
    );
  };
  for (const scenario of ['flood', 'outage'] as const) {
    const cloud = await cephBenchCloud(server);
    const dir = await mkdtemp(join(tmpdir(), `csdrift-bench-${scenario}-`));
    const sns = await new SnsStandIn().start();
    try {
      const ceph = new CephCloud(cloud.ceph, cloud.database);
      const alice = await ceph.account('alice');
      const gone = ['gone-0', 'gone-1', 'gone-2', 'gone-3', 'gone-4'];
      for (const name of scenario === 'flood' ? gone.slice(0, 1) : gone)
        await ceph.bucketDeletedInStore(name, cloud.store, alice);
      const db = cloud.database.db;
      if (scenario === 'flood') {
        const run = await opsLogFlood({ dir, db, sns, store: 'ceph-1', gone: 'gone-0', lines: sizes.lines });
        report('flood', `${sizes.lines} ops-log lines behind an unsettled delete`, run);
      } else {
        const run = await databaseOutage({
          dir,
          db,
          sns,
          store: 'ceph-1',
          gone,
          ghosts: sizes.ghosts,
          objectLines: sizes.lines,
          outageSeconds: sizes.outageSeconds,
        });
        report('outage', `database down ${sizes.outageSeconds} s with events arriving`, run);
      }
      for (const client of ceph.clients) client.destroy();
    } finally {
      await sns.stop();
      await rm(dir, { recursive: true, force: true });
      await cloud.close();
    }
  }
  return figures;
}
