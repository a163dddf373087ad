// `csdrift audit` in a process of its own, its report and its peak resident set size.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Report } from '../functions/core/report.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

export async function auditInOwnProcess(
  dbUrl: string,
  args: string[] = [],
  /** The state and reports folder, kept across runs (scan.incremental); a throwaway one otherwise. */
  out?: string,
): Promise<{ report: Report; peakBytes: number }> {
  const work = await mkdtemp(join(tmpdir(), 'csdrift-bench-cli-'));
  try {
    const rssFile = join(work, 'rss');
    const { stdout } = await run(
      process.execPath,
      [
        // CSDRIFT_BENCH_NODE_ARGS: node flags for the audit alone (`--trace-gc`, a heap size), to study it.
        ...(process.env.CSDRIFT_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        '--import',
        join(root, 'bench', 'rss-probe.mjs'),
        join(root, 'bin', 'csdrift.js'),
        'audit',
        '--db',
        dbUrl,
        '--out',
        out ?? join(work, 'reports'),
        '--quiet',
        '--json',
        ...args,
      ],
      { env: { ...process.env, CSDRIFT_BENCH_RSS_FILE: rssFile }, maxBuffer: 64 * 2 ** 20 },
    ).catch((err: { code?: number; stdout?: string }) => {
      if (err.code === 1 && err.stdout) return { stdout: err.stdout }; // exit 1: drift, as planted
      throw err;
    });
    if (process.env.CSDRIFT_BENCH_NODE_ARGS)
      await writeFile(join(tmpdir(), 'csdrift-bench-audit.out'), stdout);
    return {
      report: JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as Report,
      peakBytes: Number(await readFile(rssFile, 'utf8')),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
