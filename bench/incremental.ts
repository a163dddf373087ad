// The incremental night (scan.incremental): a first night with it on reads every bucket and keeps
// the reads; then 1% of the buckets are changed behind CloudStack's back (versioning turned on, which
// moves their listing identity) and the next night must cost at most 5% of the first's store requests
// and still find every change. Shared by the stand-in at a million and the live RGW at 10,000.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../functions/core/report.js';
import type { Figure } from './results.js';
import { atMost, round } from './results.js';

const REQUESTS_TARGET = 0.05;

export interface NightRun {
  report: Report;
  ms: number;
}

/** Store requests a report says its scans sent. */
export const requestsOf = (report: Report) => report.coverage.reduce((n, c) => n + c.evidence.requests, 0);

export async function incrementalNight(options: {
  id: string;
  /** What was audited, for the labels ("stand-in RGW, 1,000,000 buckets"). */
  what: string;
  /** One night with scan.incremental on, its state in `out`. */
  night: (out: string) => Promise<NightRun>;
  /** Changes 1% of the buckets in the store; returns their names. */
  change: () => Promise<string[]>;
  /** Versioning findings before the change (the planted ones). */
  planted: number;
  print: (line: string) => void;
}): Promise<Figure[]> {
  const out = await mkdtemp(join(tmpdir(), 'csdrift-bench-incremental-'));
  try {
    const full = await options.night(out);
    const changed = await options.change();
    const next = await options.night(out);
    const versioning = new Set(
      next.report.findings.filter((f) => f.rule === 'bucket-versioning-mismatch').map((f) => f.bucket),
    );
    const missed = changed.filter((name) => !versioning.has(name));
    if (missed.length || versioning.size !== options.planted + changed.length)
      throw new Error(
        `the incremental night found ${versioning.size} versioning changes, planted ${options.planted} + ${changed.length} (missed ${missed.slice(0, 3).join(', ')}…)`,
      );
    const ratio = round(requestsOf(next.report) / requestsOf(full.report), 3);
    options.print(
      `  ${options.what}: incremental night ${round(next.ms / 1000, 1)} s, ${requestsOf(next.report)} requests; the full night before it ${round(full.ms / 1000, 1)} s, ${requestsOf(full.report)} requests; ${changed.length} changes, all found`,
    );
    return [
      {
        id: `${options.id}.incrementalRequests`,
        label: `${options.what}: incremental night's store requests ÷ a full night's, 1% changed`,
        value: ratio,
        unit: '×',
        target: atMost(REQUESTS_TARGET)(ratio),
        detail: `${requestsOf(next.report)} of ${requestsOf(full.report)}; every one of the ${changed.length} changes found`,
      },
      {
        id: `${options.id}.incrementalS`,
        label: `${options.what}: incremental night, 1% changed`,
        value: round(next.ms / 1000, 1),
        unit: 's',
        detail: `the full night that kept the reads: ${round(full.ms / 1000, 1)} s`,
      },
    ];
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** 1% of n bucket indices, spread over the store, none of the first `skip` (the planted drift). */
export function onePercent(n: number, skip: number): number[] {
  return Array.from({ length: Math.floor(n / 100) }, (_, k) => skip + k * 100 + 7).filter((i) => i < n);
}
