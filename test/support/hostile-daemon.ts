// What an attacker, a hostile store or a tenant can send the watcher, against the real daemon process
// (the built `csdrift watch`, or another build's for a before/after figure): the scenarios of the
// hardening issue, each measured the same way for test/integration/watch-hostile.test.ts (small sizes,
// with bounds) and bench/hostile-inputs.ts (full sizes, before and after).
import { createServer as createUnixServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { connect } from 'node:net';
import { appendFile, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DbUrl } from '../../functions/cloudstack/db-url.js';
import type { SnsStandIn } from './aws-standins.js';
import { until } from './until.js';
import type { WatcherProcess } from './watch-memory.js';
import { opsLine, peakRssMiB, positionAtEnd, startWatcher } from './watch-memory.js';

export interface Daemon {
  dir: string;
  db: DbUrl;
  sns: SnsStandIn;
  /** Another build's bin/csdrift.js (the figures "before"); the project's own when absent. */
  bin?: string;
}

const start = (d: Daemon, yaml: string[]) => startWatcher(d.dir, d.db, d.sns, yaml, d.bin);

/** Resident memory now, MiB (VmRSS). */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU seconds the process has used (utime + stime). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Asks /healthz and /metrics in turn every 100 ms; keeps the longest silence (from one answer to the
 * next, however long the daemon stays frozen) and every /healthz status seen.
 */
export function liveness(port: number) {
  let lastAnswer = performance.now();
  let longestSilence = 0;
  const statuses = new Set<string>();
  let running = true;
  let turn = 0;
  const loop = (async () => {
    while (running) {
      const path = turn++ % 2 ? '/metrics' : '/healthz';
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
        const text = await res.text();
        if (path === '/healthz') statuses.add((JSON.parse(text) as { status: string }).status);
        const now = performance.now();
        longestSilence = Math.max(longestSilence, now - lastAnswer);
        lastAnswer = now;
      } catch {
        // no answer: the silence goes on
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { longestSilenceMs: Math.max(longestSilence, performance.now() - lastAnswer - 200), statuses };
    },
  };
}

/** Until the socket takes more, or closes; its listeners removed either way. */
function writable(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

async function stopDaemon(w: WatcherProcess): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exit;
}

const WEBHOOK_YAML = ['  cloudstack:', '    webhookSecret: s3cr3t-webhook-key'];

export interface SlowBodiesRun {
  /** Peak RSS above the RSS before the first byte was sent, MiB. */
  growthMiB: number;
  peakRssMiB: number;
  /** Bytes of chunk framing sent, in all. */
  sentMiB: number;
  longestSilenceMs: number;
  alive: boolean;
}

/**
 * Point 1: `connections` POSTs to /events/cloudstack with a (wrong) signature, each a body of just
 * under 1 MiB sent as one-byte chunks (`1\r\nx\r\n`) and never finished.
 */
export async function slowBodies(
  d: Daemon,
  connections: number,
  bodyBytes = 1024 * 1024 - 1024,
): Promise<SlowBodiesRun> {
  const w = await start(d, WEBHOOK_YAML);
  const pid = w.child.pid as number;
  try {
    await new Promise((r) => setTimeout(r, 500));
    const before = await rssMiB(pid);
    const probe = liveness(w.port);
    const head =
      'POST /events/cloudstack HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      'X-CS-Signature: bm90LXRoZS1zaWduYXR1cmU=\r\nTransfer-Encoding: chunked\r\n\r\n';
    const piece = Buffer.from('1\r\nx\r\n'.repeat(10_000));
    const sockets: Socket[] = [];
    let sent = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        const socket = connect(w.port, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => {});
        await new Promise((r) => socket.once('connect', r));
        socket.write(head);
        for (let i = 0; i < bodyBytes && !socket.destroyed; i += 10_000) {
          sent += piece.length;
          if (!socket.write(piece)) await writable(socket);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 2_000)); // what was sent is read
    const health = await probe.stop();
    const peak = await peakRssMiB(pid);
    for (const s of sockets) s.destroy();
    return {
      growthMiB: peak - before,
      peakRssMiB: peak,
      sentMiB: sent / 1024 / 1024,
      longestSilenceMs: health.longestSilenceMs,
      alive: w.child.exitCode === null,
    };
  } finally {
    await stopDaemon(w);
  }
}

export interface StalledHeadersRun {
  opened: number;
  /** Still open `afterMs` after their last byte. */
  stillOpen: number;
  /** Refused at once (503 past the cap) or never connected. */
  refused: number;
  longestSilenceMs: number;
}

/** Point 5: `connections` clients send part of their headers, then nothing. */
export async function stalledHeaders(
  d: Daemon,
  connections: number,
  afterMs: number,
): Promise<StalledHeadersRun> {
  const w = await start(d, WEBHOOK_YAML);
  try {
    const probe = liveness(w.port);
    const open = new Set<Socket>();
    let refused = 0;
    for (let i = 0; i < connections; i++) {
      const socket = connect(w.port, '127.0.0.1');
      socket.on('error', () => {});
      const ok = await new Promise<boolean>((r) => {
        socket.once('connect', () => r(true));
        socket.once('error', () => r(false));
      });
      if (!ok) {
        refused++;
        continue;
      }
      socket.write('POST /events/cloudstack HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.on('data', (b) => {
        if (b.toString().startsWith('HTTP/1.1 503')) refused++;
      });
    }
    await new Promise((r) => setTimeout(r, afterMs));
    const health = await probe.stop();
    const stillOpen = open.size;
    for (const s of open) s.destroy();
    return { opened: connections, stillOpen, refused, longestSilenceMs: health.longestSilenceMs };
  } finally {
    await stopDaemon(w);
  }
}

export interface PolicyFloodRun {
  lines: number;
  /** Longest time /healthz and /metrics were silent while the lines were read. */
  longestSilenceMs: number;
  /** From the first line written to every line settled (the position at the end); null: not within the wait. */
  settledAfterS: number | null;
  peakRssMiB: number;
  /** SIGTERM sent with half the lines written: milliseconds to exit, and the exit code. */
  sigtermToExitMs: number | null;
  exitCode: number | null;
}

/**
 * Point 2: a tenant writes `put_bucket_policy` on its buckets as fast as it likes: `lines` ops-log
 * lines over `buckets` bucket names. With `sigterm`, the daemon is told to stop when half are
 * written, and the time it takes to exit is measured; else it is waited for (at most `waitS`) to
 * settle every line.
 */
export async function policyFlood(
  d: Daemon,
  options: { lines: number; buckets: number; sigterm: boolean; waitS: number; debounceSeconds?: number },
): Promise<PolicyFloodRun> {
  const log = join(d.dir, `rgw-ops-${options.sigterm ? 'term' : 'flood'}.log`);
  await writeFile(log, '');
  const w = await start(d, [
    `  debounceSeconds: ${options.debounceSeconds ?? 1}`,
    '  opsLogs:',
    `    ceph-1: ${log}`,
  ]);
  const pid = w.child.pid as number;
  try {
    const probe = liveness(w.port);
    const started = performance.now();
    const slice = 20_000;
    let sigtermAt: number | null = null;
    for (let i = 0; i < options.lines; i += slice) {
      const n = Math.min(slice, options.lines - i);
      const lines = Array.from({ length: n }, (_, j) =>
        opsLine(`tenant-${(i + j) % options.buckets}`, 'put_bucket_policy'),
      );
      await appendFile(log, `${lines.join('\n')}\n`);
      if (options.sigterm && sigtermAt === null && i + n >= options.lines / 2) {
        await new Promise((r) => setTimeout(r, 500)); // reading is under way
        sigtermAt = performance.now();
        w.child.kill('SIGTERM');
      }
    }
    let settledAfterS: number | null = null;
    let sigtermToExitMs: number | null = null;
    if (sigtermAt !== null) {
      const exited = await Promise.race([
        w.exit.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), options.waitS * 1000)),
      ]);
      sigtermToExitMs = exited ? performance.now() - sigtermAt : null;
    } else {
      const settled = await until(
        'every line settled',
        () => positionAtEnd(join(d.dir, 'watch-state'), log),
        options.waitS * 1000,
      ).then(
        () => true,
        () => false,
      );
      settledAfterS = settled ? (performance.now() - started) / 1000 : null;
    }
    const health = await probe.stop();
    const peak = w.child.exitCode === null ? await peakRssMiB(pid) : NaN;
    return {
      lines: options.lines,
      longestSilenceMs: health.longestSilenceMs,
      settledAfterS,
      peakRssMiB: peak,
      sigtermToExitMs,
      exitCode: w.child.exitCode,
    };
  } finally {
    await stopDaemon(w);
  }
}

export interface EndlessLineRun {
  sentMiB: number;
  /** Connections the daemon made to the socket (each reset one is made again). */
  connections: number;
  peakRssMiB: number;
  alive: boolean;
  /** csdrift_events_dropped_total{reason="malformed"} of the ops log after. */
  droppedMalformed: number;
  stderrTail: string;
}

/**
 * Point 3: the RGW ops-log socket (rgw_ops_log_socket_path) sends `[` and then bytes with no newline,
 * as a broken or hostile store can, until `megabytes` are taken or `seconds` have passed.
 */
export async function endlessLine(d: Daemon, megabytes: number, seconds: number): Promise<EndlessLineRun> {
  const path = join(d.dir, 'rgw-ops.sock');
  let sent = 0;
  let connections = 0;
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  const server: NetServer = createUnixServer((socket) => {
    connections++;
    socket.on('error', () => {});
    void (async () => {
      socket.write('[');
      while (sent < megabytes * 1024 * 1024 && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) await writable(socket);
      }
    })();
  });
  await new Promise<void>((r) => server.listen(path, r));
  const w = await start(d, ['  opsLogs:', `    ceph-1: ${path}`]);
  const pid = w.child.pid as number;
  try {
    const end = Date.now() + seconds * 1000;
    await until(
      'the bytes sent, the time up, or the daemon gone',
      () => sent >= megabytes * 1024 * 1024 || w.child.exitCode !== null || Date.now() >= end,
      seconds * 1000 + 60_000,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const alive = w.child.exitCode === null && w.child.signalCode === null;
    const peak = alive ? await peakRssMiB(pid) : NaN;
    let dropped = 0;
    if (alive) {
      const metrics = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
      dropped = Number(
        /csdrift_events_dropped_total\{source="ops-log",reason="malformed"\} (\d+)/.exec(metrics)?.[1] ?? 0,
      );
    }
    return {
      sentMiB: sent / 1024 / 1024,
      connections,
      peakRssMiB: peak,
      alive,
      droppedMalformed: dropped,
      stderrTail: w.stderr().trim().split('\n').slice(-2).join(' | ').slice(0, 300),
    };
  } finally {
    await stopDaemon(w);
    await new Promise((r) => server.close(r));
  }
}

export interface LogSwapRun {
  /** Tasks told for the delete written to the fresh log after the swap (1: it was audited). */
  auditedAfterSwap: number;
  /** CPU seconds the daemon used from the swap to the end of the wait. */
  cpuSeconds: number;
  /** /healthz statuses seen while the path pointed at /dev/zero. */
  statusesDuringSwap: string[];
}

/**
 * Point 6: the ops-log path points at /dev/zero for 3 s and then at a fresh file (as a rotation
 * does), which receives the delete of `goneAfter` (a bucket CloudStack still has).
 */
export async function logSwap(
  d: Daemon,
  goneBefore: string,
  goneAfter: string,
  waitS: number,
): Promise<LogSwapRun> {
  const log = join(d.dir, 'rgw-ops-swap.log');
  await writeFile(log, '');
  const w = await start(d, ['  debounceSeconds: 0.3', '  opsLogs:', `    ceph-1: ${log}`]);
  const pid = w.child.pid as number;
  try {
    const tasks = () => d.sns.published.filter((m) => m.attributes.kind === 'task').length;
    await appendFile(log, `${opsLine(goneBefore, 'delete_bucket')}\n`);
    await until('the task before the swap', () => tasks() >= 1, 60_000);
    const cpuBefore = await cpuSeconds(pid);
    await rename(log, `${log}.1`);
    await symlink('/dev/zero', log);
    const probe = liveness(w.port);
    await new Promise((r) => setTimeout(r, 3_000));
    const during = await probe.stop();
    await rm(log);
    await writeFile(log, `${opsLine(goneAfter, 'delete_bucket')}\n`);
    await until('the task after the swap', () => tasks() >= 2, waitS * 1000).catch(() => {});
    return {
      auditedAfterSwap: tasks() - 1,
      cpuSeconds: (await cpuSeconds(pid)) - cpuBefore,
      statusesDuringSwap: [...during.statuses],
    };
  } finally {
    await stopDaemon(w);
  }
}
