// The watcher under a backlog, as a real process (the built `csdrift watch`), for the memory test and
// bench/watch-memory.ts: an RGW ops log flooded with object-level lines behind one unsettled delete,
// and the CloudStack database down for a while with events arriving. Each run reports the process's
// peak RSS (VmHWM), the longest /healthz answer, the tasks told and whether every line was settled.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DbUrl } from '../../functions/cloudstack/db-url.js';
import type { SnsStandIn } from './aws-standins.js';
import { dbUrlText } from './database.js';
import { freePort } from './ports.js';
import { TcpCutter } from './tcp-cutter.js';
import { until } from './until.js';

const BIN = new URL('../../bin/csdrift.js', import.meta.url).pathname;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks';

export interface BacklogRun {
  /** The watcher's peak resident memory, MiB (VmHWM). */
  peakRssMiB: number;
  /** The longest /healthz answer while the backlog was read, ms. */
  longestHealthzMs: number;
  /** Tasks told on SNS. */
  tasks: number;
  /** The ops log position reached the end of the file: every line settled. */
  settledToEnd: boolean;
  /** The watcher paused its sources at some point. */
  paused: boolean;
  /** From the first line written to the last verdict, seconds. */
  seconds: number;
  exitCode: number | null;
}

/** One line of RGW's ops log (as RGW 16.2 writes it; FACTS.md "Ceph RGW ops log"). */
export function opsLine(bucket: string, operation: string, i = 0): string {
  return JSON.stringify({
    bucket,
    time: '2026-12-04T02:05:13.000000Z',
    time_local: '2026-12-04T02:05:13.000000+0000',
    remote_addr: '10.0.0.5',
    user: 'busy-tenant',
    operation,
    uri: operation === 'delete_bucket' ? `DELETE /${bucket} HTTP/1.1` : `PUT /${bucket}/obj-${i} HTTP/1.1`,
    http_status: operation === 'delete_bucket' ? '204' : '200',
    error_code: '',
    bytes_sent: 0,
    bytes_received: 1024,
    object_size: 1024,
    total_time: 3,
    user_agent: 'aws-cli/2.15',
    referrer: '',
  });
}

export interface WatcherProcess {
  child: ChildProcess;
  stderr: () => string;
  port: number;
  exit: Promise<number | null>;
}

/** The built `csdrift watch` (or `bin`: another build's, for a before/after figure) as a process. */
export async function startWatcher(
  dir: string,
  db: DbUrl | string,
  sns: SnsStandIn,
  watchYaml: string[],
  bin = BIN,
): Promise<WatcherProcess> {
  const port = await freePort();
  const config = join(dir, 'csdrift.yaml');
  await writeFile(config, ['watch:', `  listen: 127.0.0.1:${port}`, ...watchYaml, ''].join('\n'));
  const url = typeof db === 'string' ? db : dbUrlText(db);
  const args = ['watch', '--db', url, '--config', config, '--out', dir, '--format', 'json'];
  const child = spawn(process.execPath, [bin, ...args, '--sns-topic', TOPIC], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
      AWS_SECRET_ACCESS_KEY: 'standin',
      AWS_REGION: 'us-east-1',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await until('the watcher to start', () => stderr.includes('watching:') || child.exitCode !== null, 30_000);
  if (child.exitCode !== null) throw new Error(`the watcher did not start: ${stderr}`);
  return { child, stderr: () => stderr, port, exit };
}

/** Polls /healthz every 100 ms until stopped; keeps the longest answer and whether it saw a pause. */
export function healthProbe(port: number) {
  let longest = 0;
  let paused = false;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      try {
        const body = (await (
          await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })
        ).json()) as { paused?: boolean };
        if (body.paused) paused = true;
      } catch {
        // an answer that never came counts at its full wait
      }
      longest = Math.max(longest, performance.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { longest, paused };
    },
  };
}

export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Whether the ops log position the watcher saved has reached the end of the log. */
export async function positionAtEnd(stateDir: string, log: string): Promise<boolean> {
  const names = (await readdir(stateDir).catch(() => [] as string[])).filter((n) =>
    /^ops-log-[0-9a-f]+\.json$/.test(n),
  );
  const size = (await stat(log)).size;
  for (const name of names) {
    const text = await readFile(join(stateDir, name), 'utf8').catch(() => '{}');
    if ((JSON.parse(text) as { offset?: number }).offset === size) return true;
  }
  return false;
}

/** Appends `count` object-level lines in slices (a busy RGW), and returns once they are written. */
async function appendObjectLines(log: string, count: number, bucket = 'busy-bucket'): Promise<void> {
  const slice = 50_000;
  for (let i = 0; i < count; i += slice) {
    const n = Math.min(slice, count - i);
    await appendFile(
      log,
      `${Array.from({ length: n }, (_, j) => opsLine(bucket, 'put_obj', i + j)).join('\n')}\n`,
    );
  }
}

async function finish(
  w: WatcherProcess,
  started: number,
  probe: ReturnType<typeof healthProbe>,
  sns: SnsStandIn,
  log: string,
  dir: string,
) {
  const health = await probe.stop();
  const peak = await peakRssMiB(w.child.pid as number);
  const settledToEnd = await positionAtEnd(join(dir, 'watch-state'), log);
  const seconds = (performance.now() - started) / 1000;
  w.child.kill('SIGTERM');
  const exitCode = await w.exit;
  return {
    peakRssMiB: peak,
    longestHealthzMs: health.longest,
    paused: health.paused,
    tasks: sns.published.filter((m) => m.attributes.kind === 'task').length,
    settledToEnd,
    seconds,
    exitCode,
  };
}

/**
 * `lines` object-level lines arrive behind one delete of `gone` (a bucket CloudStack still has): the
 * delete stays unsettled for the debounce while the lines are read; its task is told, and the
 * position moves to the end once its verdict is written.
 */
export async function opsLogFlood(options: {
  dir: string;
  db: DbUrl;
  sns: SnsStandIn;
  store: string;
  gone: string;
  lines: number;
}): Promise<BacklogRun> {
  const log = join(options.dir, 'rgw-ops.log');
  await writeFile(log, '');
  const w = await startWatcher(options.dir, options.db, options.sns, [
    '  debounceSeconds: 20',
    '  opsLogs:',
    `    ${options.store}: ${log}`,
  ]);
  try {
    const probe = healthProbe(w.port);
    const started = performance.now();
    await appendFile(log, `${opsLine(options.gone, 'delete_bucket')}\n`);
    await appendObjectLines(log, options.lines);
    await until('the task', () => options.sns.published.length >= 1, 120_000);
    await until(
      'the position at the end',
      () => positionAtEnd(join(options.dir, 'watch-state'), log),
      60_000,
    );
    return await finish(w, started, probe, options.sns, log, options.dir);
  } finally {
    w.child.kill('SIGKILL');
  }
}

/**
 * The CloudStack database goes down for `outageSeconds` (every connection to it cut) while events
 * keep arriving in the ops log: deletes of `gone` (buckets CloudStack still has), then deletes of
 * `ghosts` names no one has, and object-level lines throughout. When it comes back, every event is
 * audited: one task per `gone` bucket, and the position reaches the end.
 */
export async function databaseOutage(options: {
  dir: string;
  db: DbUrl;
  sns: SnsStandIn;
  store: string;
  gone: string[];
  ghosts: number;
  objectLines: number;
  outageSeconds: number;
  maxPendingEvents?: number;
}): Promise<BacklogRun> {
  const log = join(options.dir, 'rgw-ops.log');
  await writeFile(log, '');
  const cutter = await new TcpCutter({ host: options.db.host, port: options.db.port }, Infinity).start();
  const w = await startWatcher(
    options.dir,
    { ...options.db, host: '127.0.0.1', port: cutter.port },
    options.sns,
    [
      '  debounceSeconds: 2',
      ...(options.maxPendingEvents ? [`  maxPendingEvents: ${options.maxPendingEvents}`] : []),
      '  opsLogs:',
      `    ${options.store}: ${log}`,
    ],
  );
  try {
    const probe = healthProbe(w.port);
    const started = performance.now();
    cutter.cutAfter = 0; // down: every connection is cut as soon as the server speaks
    const outageEnds = Date.now() + options.outageSeconds * 1000;
    await appendFile(log, `${options.gone.map((b) => opsLine(b, 'delete_bucket')).join('\n')}\n`);
    // Events keep arriving through the outage: ghosts' deletes and object lines, spread over it.
    const rounds = Math.max(1, Math.floor(options.outageSeconds / 2));
    for (let r = 0; r < rounds; r++) {
      const from = Math.floor((options.ghosts * r) / rounds);
      const to = Math.floor((options.ghosts * (r + 1)) / rounds);
      const ghosts = Array.from({ length: to - from }, (_, i) =>
        opsLine(`ghost-${from + i}`, 'delete_bucket'),
      );
      if (ghosts.length) await appendFile(log, `${ghosts.join('\n')}\n`);
      await appendObjectLines(log, Math.floor(options.objectLines / rounds));
      await new Promise((res) => setTimeout(res, Math.max(0, Math.min(2000, outageEnds - Date.now()))));
    }
    await new Promise((res) => setTimeout(res, Math.max(0, outageEnds - Date.now())));
    cutter.cutAfter = Infinity; // back
    await until('a task per gone bucket', () => options.sns.published.length >= options.gone.length, 240_000);
    await until(
      'the position at the end',
      () => positionAtEnd(join(options.dir, 'watch-state'), log),
      240_000,
    );
    return await finish(w, started, probe, options.sns, log, options.dir);
  } finally {
    w.child.kill('SIGKILL');
    await cutter.stop();
  }
}
