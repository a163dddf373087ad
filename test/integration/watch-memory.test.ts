// The watcher's memory stays bounded whatever arrives (issue: "sources pause, not buffer"): the real
// `csdrift watch` process, a live RGW and MariaDB. bench/watch-memory.ts runs the same at full size
// (1,000,000 lines; 5 minutes without the database) and reports the figures.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsStandIn } from '../support/aws-standins.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { databaseOutage, opsLogFlood } from '../support/watch-memory.js';

/** The budget of the issue: the watcher's peak RSS under any backlog. */
const BUDGET_MIB = 256;

describe('csdrift watch under a backlog', () => {
  const ctx = cephCloudPerTest('4.21');
  let sns: SnsStandIn;
  beforeEach(async () => {
    sns = await new SnsStandIn().start();
  });
  afterEach(() => sns.stop());

  it('1,000,000 object-level ops-log lines behind an unsettled delete: under 256 MiB, /healthz answers, one task, every line settled', async () => {
    // Prepare: the seed case on a live RGW
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);

    // Act
    const run = await opsLogFlood({
      dir: ctx.dir,
      db: ctx.cloud.database.db,
      sns,
      store: 'ceph-1',
      gone,
      lines: 1_000_000,
    });
    console.log(
      `ops-log flood: peak RSS ${run.peakRssMiB.toFixed(0)} MiB, longest /healthz ${run.longestHealthzMs.toFixed(0)} ms, ${run.seconds.toFixed(1)} s`,
    );

    // Assert
    expect(run.peakRssMiB).toBeLessThan(BUDGET_MIB);
    expect(run.longestHealthzMs).toBeLessThan(1000);
    expect(run.tasks).toBe(1);
    expect(run.settledToEnd).toBe(true);
    expect(run.exitCode).toBe(0);
  }, 240_000);

  it('the database down while 12,000 deletes arrive: sources pause, memory stays under 256 MiB, and nothing is lost when it comes back', async () => {
    // Prepare: five buckets deleted behind CloudStack's back
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone: string[] = [];
    for (let i = 0; i < 5; i++) {
      gone.push(bucketName(`gone${i}`));
      await ctx.cloud.bucketDeletedInStore(gone[i] as string, store, alice);
    }

    // Act
    const run = await databaseOutage({
      dir: ctx.dir,
      db: ctx.cloud.database.db,
      sns,
      store: 'ceph-1',
      gone,
      ghosts: 12_000,
      objectLines: 200_000,
      outageSeconds: 20,
    });
    console.log(
      `database outage: peak RSS ${run.peakRssMiB.toFixed(0)} MiB, longest /healthz ${run.longestHealthzMs.toFixed(0)} ms, ${run.seconds.toFixed(1)} s, paused ${run.paused}`,
    );

    // Assert
    expect(run.peakRssMiB).toBeLessThan(BUDGET_MIB);
    expect(run.paused).toBe(true); // above 10,000 events waiting, the sources paused
    expect(run.tasks).toBe(5); // every gone bucket told once, none lost, none twice
    expect(run.settledToEnd).toBe(true);
    expect(run.exitCode).toBe(0);
  }, 400_000);
});
