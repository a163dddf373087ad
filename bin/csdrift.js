#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`; `npm test`, `npm run demo` and `npm pack` build it first).
//
// csdrift watch runs for weeks under bursts of events, and csdrift audit may read a store of a
// million buckets: V8 lets garbage pile up towards its default heap limit (gigabytes on a large host)
// before it collects. So both cap their heap (CSDRIFT_WATCH_HEAP_MIB, default 192;
// CSDRIFT_AUDIT_HEAP_MIB, default 320, with a small young generation; 0: no cap), re-executing
// themselves with the flags in the same process (same pid, for systemd) where the runtime can
// (Node.js 22.15 and later). The audit holds one partition of a store at a time (README,
// "Performance"), a few tens of megabytes whatever the store's size; the findings and reports are
// still whole, and a run of ten thousand findings needs about 320 MiB (160 ran out of memory).
// The audit also re-executes with glibc's allocator told to give freed memory back (the variables
// below, unless set already; other C libraries ignore them): reading a million rows and a million
// answers, it otherwise kept about 7 MiB more resident at a million buckets than at 100,000, freed
// but fragmented, and raised its own thresholds after each large buffer it freed.
import process from 'node:process';

// csdrift is built and tested on Node.js 22 (the Lambda runtime), and its dependencies declare it
// (npm says so with EBADENGINE at install). On an older Node it says so once, in one line, and goes on.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 && !process.env.CSDRIFT_NODE_WARNED) {
  process.env.CSDRIFT_NODE_WARNED = '1'; // the watcher's re-exec below does not say it twice
  process.stderr.write(
    `csdrift: warning: Node.js ${process.versions.node} is older than the Node.js 22 csdrift is tested on; it may work, but run it on 22 (without another apt source: npx -p node@22 -p cloudstack-drift-auditor csdrift …; README, "Node.js")\n`,
  );
}

const HEAP_FLAG = '--max-old-space-size';
const HEAPS = {
  watch: { mib: Number(process.env.CSDRIFT_WATCH_HEAP_MIB ?? 192), more: [], malloc: {} },
  audit: {
    mib: Number(process.env.CSDRIFT_AUDIT_HEAP_MIB ?? 320),
    // Old space grown by 20% over what the last full collection kept, not V8's default factor (up to
    // twice): the garbage allowed to pile up grows with what is live, and what is live grows with the
    // store's users (ten thousand at a million buckets). Measured at 100,000 buckets over 10,000 users:
    // peak 155 MiB against 167, the same wall time (README, "A store of a million buckets").
    // A young generation of 8 MiB semi-spaces: at 4, what lives a few tens of milliseconds (a request
    // in flight, its socket and parser, at two thousand requests a second) outlived two scavenges and
    // was promoted (1.3 GB at 100,000 buckets), and the full collections it fed cost about a third
    // of the audit's CPU (61 to 65 s against 41 to 44 at 8 MiB), for 8 to 13 MiB more at the peak.
    more: ['--max-semi-space-size=8', '--heap-growing-percent=20'],
    // Two arenas, not eight per core; blocks of 128 KiB and more mapped alone and unmapped when
    // freed; the top of the heap trimmed past 128 KiB (fixed: glibc's own grow after each free).
    malloc: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' },
  },
};
const heap = HEAPS[process.argv[2]];
if (
  heap &&
  heap.mib > 0 &&
  typeof process.execve === 'function' &&
  !process.execArgv.some((arg) => arg.startsWith(HEAP_FLAG)) &&
  !(process.env.NODE_OPTIONS ?? '').includes(HEAP_FLAG)
) {
  process.execve(
    process.execPath,
    [
      process.execPath,
      `${HEAP_FLAG}=${heap.mib}`,
      ...heap.more,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { ...heap.malloc, ...process.env },
  );
}
await import('../dist/cli/main.js');
