// The report of the contract (schemaVersion 1), its status and the exit code it implies.
import type { CloudStackSchema, Finding, Severity, StoreCoverage } from './model.js';
import { SEVERITIES } from './model.js';

export type RunStatus = 'in_sync' | 'drift' | 'incomplete' | 'error';
export type Trigger = 'schedule' | 'manual' | 'cli';

export interface Report {
  schemaVersion: 1;
  runId: string;
  trigger: Trigger;
  startedAt: string;
  finishedAt: string;
  status: RunStatus;
  cloudstack: { schema: CloudStackSchema; database: string; readAt: string };
  coverage: StoreCoverage[];
  summary: {
    findings: number;
    new: number;
    open: number;
    resolved: number;
    suppressed: number;
    bySeverity: Partial<Record<Severity, number>>;
    byRule: Record<string, number>;
  };
  findings: Finding[];
  resolved: {
    id: string;
    rule: string;
    store: unknown;
    bucket: string | null;
    firstSeen: string;
    resolvedAt: string;
  }[];
}

export const EXIT = { inSync: 0, drift: 1, incomplete: 2, error: 3 } as const;

const UNVERIFIED = new Set(['partial', 'unreachable', 'auth_failed']);

export function runStatus(coverage: StoreCoverage[], findings: Finding[]): RunStatus {
  if (coverage.some((c) => UNVERIFIED.has(c.status))) return 'incomplete';
  return findings.some((f) => f.status !== 'suppressed') ? 'drift' : 'in_sync';
}

export function summarise(findings: Finding[]): Report['summary'] {
  const count = <K extends string>(key: (f: Finding) => K) =>
    findings.reduce<Partial<Record<K, number>>>(
      (acc, f) => ({ ...acc, [key(f)]: (acc[key(f)] ?? 0) + 1 }),
      {},
    );
  return {
    findings: findings.length,
    new: findings.filter((f) => f.status === 'new').length,
    open: findings.filter((f) => f.status === 'open').length,
    resolved: 0,
    suppressed: findings.filter((f) => f.status === 'suppressed').length,
    bySeverity: count((f) => f.severity),
    byRule: count((f) => f.rule) as Record<string, number>,
  };
}

/** 2 beats 1: an incomplete audit cannot promise that what it did not see is in sync. */
export function exitCode(report: Report, failOn: Severity): number {
  if (report.status === 'error') return EXIT.error;
  if (report.status === 'incomplete') return EXIT.incomplete;
  const threshold = SEVERITIES.indexOf(failOn);
  const failing = report.findings.some(
    (f) => f.status !== 'suppressed' && SEVERITIES.indexOf(f.severity) <= threshold,
  );
  return failing ? EXIT.drift : EXIT.inSync;
}
