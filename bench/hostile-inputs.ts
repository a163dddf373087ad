// The hardening issue's attacks at full size against the built `csdrift watch` on a live RGW, and,
// given `--before <bin/csdrift.js of another checkout>`, the same against that build (0.9.0) for the
// figures before. What each measures: peak RSS, the longest silence of /healthz and /metrics, the
// time from SIGTERM to exit, connections left open, lines audited after the log path was swapped.
// test/integration/watch-hostile.test.ts runs the same scenarios small, with the same bounds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import { SnsStandIn } from '../test/support/aws-standins.js';
import { CephCloud } from '../test/support/cloud.js';
import type { Daemon } from '../test/support/hostile-daemon.js';
import {
  endlessLine,
  logSwap,
  policyFlood,
  slowBodies,
  stalledHeaders,
} from '../test/support/hostile-daemon.js';
import { cephBenchCloud } from './ceph-bench-cloud.js';
import type { Figure } from './results.js';
import { atLeast, atMost, round } from './results.js';

interface Sizes {
  slowConnections: number;
  floodLines: number;
  floodWaitS: number;
  endlessMiB: number;
  endlessSeconds: number;
}

/** The sizes; a build that freezes is given a smaller flood and a cap on the wait. */
export const FULL: Sizes = {
  slowConnections: 16,
  floodLines: 1_000_000,
  floodWaitS: 600,
  endlessMiB: 2048,
  endlessSeconds: 60,
};
export const BEFORE: Sizes = {
  slowConnections: 3,
  floodLines: 50_000,
  floodWaitS: 90,
  endlessMiB: 700,
  endlessSeconds: 60,
};
export const QUICK: Sizes = {
  slowConnections: 3,
  floodLines: 100_000,
  floodWaitS: 120,
  endlessMiB: 100,
  endlessSeconds: 5,
};

export async function hostileInputs(
  server: DbUrl,
  sizes: Sizes,
  print: (line: string) => void,
  build: { bin?: string; label: 'after' | 'before' } = { label: 'after' },
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const before = build.label === 'before';
  const id = (name: string) => (before ? `hostile-before-${name}` : `hostile-${name}`);
  const label = (text: string) => (before ? `0.9.0: ${text}` : text);
  /** A figure with the target (after), or the same figure for context (before). */
  const add = (
    name: string,
    text: string,
    value: number,
    unit: string,
    target?: (v: number) => { text: string; met: boolean },
  ) => {
    figures.push({
      id: id(name),
      label: label(text),
      value: Number.isFinite(value) ? round(value, 1) : -1,
      unit,
      ...(target && !before ? { target: target(value) } : {}),
    });
    print(`  ${label(text)}: ${Number.isFinite(value) ? round(value, 1) : 'n/a'} ${unit}`);
  };

  const cloud = await cephBenchCloud(server);
  const dir = await mkdtemp(join(tmpdir(), 'csdrift-bench-hostile-'));
  const sns = await new SnsStandIn().start();
  try {
    const ceph = new CephCloud(cloud.ceph, cloud.database);
    const daemon: Daemon = { dir, db: cloud.database.db, sns, ...(build.bin ? { bin: build.bin } : {}) };

    // Point 1: bodies sent a byte at a time, never finished
    const slow = await slowBodies(daemon, sizes.slowConnections);
    add(
      'slow-bodies-growth',
      `${sizes.slowConnections} unfinished 1 MiB bodies in 1-byte chunks: RSS growth`,
      slow.alive ? slow.growthMiB : NaN,
      'MiB',
      atMost(sizes.slowConnections * 2 + 24),
    );
    add(
      'slow-bodies-silence',
      `the same: longest /healthz+/metrics silence`,
      slow.longestSilenceMs,
      'ms',
      atMost(1000),
    );

    // Point 5: connections that stop mid-headers
    const stalled = await stalledHeaders(daemon, 200, 12_000);
    add(
      'stalled-open',
      '200 connections stopped mid-headers: still open 12 s later',
      stalled.stillOpen,
      '',
      atMost(0),
    );

    // Point 2: put_bucket_policy on one bucket, then over 200, then SIGTERM halfway
    for (const buckets of [1, 200]) {
      const run = await policyFlood(daemon, {
        lines: sizes.floodLines,
        buckets,
        sigterm: false,
        waitS: sizes.floodWaitS,
      });
      const what = `${sizes.floodLines} put_bucket_policy lines on ${buckets} bucket(s)`;
      add(
        `flood-${buckets}-silence`,
        `${what}: longest /healthz+/metrics silence`,
        run.longestSilenceMs,
        'ms',
        atMost(1000),
      );
      add(
        `flood-${buckets}-settled`,
        `${what}: every line settled after (-1: not within ${sizes.floodWaitS} s)`,
        run.settledAfterS ?? NaN,
        's',
      );
      add(`flood-${buckets}-rss`, `${what}: peak RSS`, run.peakRssMiB, 'MiB', atMost(256));
    }
    const term = await policyFlood(daemon, { lines: sizes.floodLines, buckets: 1, sigterm: true, waitS: 60 });
    add(
      'flood-sigterm',
      `SIGTERM with half of ${sizes.floodLines} lines written: to exit (-1: not within 60 s)`,
      term.sigtermToExitMs ?? NaN,
      'ms',
      atMost(30_000),
    );

    // Point 3: a socket that sends no newline
    const endless = await endlessLine(daemon, sizes.endlessMiB, sizes.endlessSeconds);
    add(
      'endless-sent',
      `ops-log socket without a newline for ${sizes.endlessSeconds} s: bytes taken`,
      endless.sentMiB,
      'MiB',
    );
    add(
      'endless-alive',
      `the same: daemon alive after (1 yes, 0 no: ${endless.alive ? 'up' : endless.stderrTail})`,
      endless.alive ? 1 : 0,
      '',
      atLeast(1),
    );
    add('endless-rss', 'the same: peak RSS (-1: the daemon died)', endless.peakRssMiB, 'MiB', atMost(256));

    // Point 6: the log path on /dev/zero for 3 s, then a fresh file
    const alice = await ceph.account('alice');
    await ceph.bucketDeletedInStore('gone-before', cloud.store, alice);
    await ceph.bucketDeletedInStore('gone-after', cloud.store, alice);
    const swap = await logSwap(daemon, 'gone-before', 'gone-after', 30);
    add(
      'swap-audited',
      'ops-log path on /dev/zero for 3 s, then a fresh file: deletes audited after',
      swap.auditedAfterSwap,
      '',
      atLeast(1),
    );
    add(
      'swap-cpu',
      'the same: CPU used from the swap to the fresh delete audited (at most 30 s)',
      swap.cpuSeconds,
      's',
      atMost(3),
    );
    print(`  /healthz during the swap: ${swap.statusesDuringSwap.join(', ')}`);
    for (const client of ceph.clients) client.destroy();
  } finally {
    await sns.stop();
    await rm(dir, { recursive: true, force: true });
    await cloud.close();
  }
  return figures;
}
