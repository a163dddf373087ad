// The report of the contract (schemaVersion 1), its status and the exit code it implies.
import type { LedgerUpdate, PendingFinding, ResolvedFinding } from './ledger.js';
import type { CloudStackSchema, Finding, Severity, StoreCoverage } from './model.js';
import { SEVERITIES } from './model.js';

export type RunStatus = 'in_sync' | 'drift' | 'incomplete' | 'error';
export type Trigger = 'schedule' | 'manual' | 'cli';

export interface ExpiredSuppression {
  rule: string;
  store: string;
  bucket: string;
  reason: string;
  owner: string;
  expires: string;
}

export interface Report {
  schemaVersion: 1;
  runId: string;
  trigger: Trigger;
  startedAt: string;
  finishedAt: string;
  status: RunStatus;
  cloudstack: {
    schema: CloudStackSchema;
    database: string;
    readAt: string;
    /** Bucket rows whose object_store_id names no store: listed, never judged (CloudStackInventory). */
    rowsWithoutStore?: { count: number; bucketIds: number[] };
  };
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
  resolved: ResolvedFinding[];
  /** Seen, but not yet on as many consecutive runs as their rule's `confirmRuns` asks. */
  pending: PendingFinding[];
  /** Config suppressions past their expiry: they no longer apply. */
  expiredSuppressions: ExpiredSuppression[];
}

export const EXIT = { inSync: 0, drift: 1, incomplete: 2, error: 3 } as const;

const UNVERIFIED = new Set(['partial', 'unreachable', 'auth_failed']);

export function runStatus(coverage: StoreCoverage[], findings: Finding[]): RunStatus {
  // A check that could not be verified (a bucket whose policy was unreadable) leaves the run incomplete too.
  if (coverage.some((c) => UNVERIFIED.has(c.status) || Object.values(c.checks).includes('unverified')))
    return 'incomplete';
  return findings.some((f) => f.status !== 'suppressed') ? 'drift' : 'in_sync';
}

export function summarise(findings: Finding[], resolved: ResolvedFinding[] = []): Report['summary'] {
  const count = <K extends string>(key: (f: Finding) => K) =>
    findings.reduce<Partial<Record<K, number>>>(
      (acc, f) => ({ ...acc, [key(f)]: (acc[key(f)] ?? 0) + 1 }),
      {},
    );
  return {
    findings: findings.length,
    new: findings.filter((f) => f.status === 'new').length,
    open: findings.filter((f) => f.status === 'open').length,
    resolved: resolved.length,
    suppressed: findings.filter((f) => f.status === 'suppressed').length,
    bySeverity: count((f) => f.severity),
    byRule: count((f) => f.rule) as Record<string, number>,
  };
}

export interface ReportParts {
  runId: string;
  trigger: Trigger;
  startedAt: string;
  finishedAt: string;
  cloudstack: Report['cloudstack'];
  coverage: StoreCoverage[];
  lifecycle: Pick<LedgerUpdate, 'findings' | 'resolved' | 'pending'>;
  expiredSuppressions: ExpiredSuppression[];
}

export function buildReport(parts: ReportParts): Report {
  const { findings, resolved, pending } = parts.lifecycle;
  return {
    schemaVersion: 1,
    runId: parts.runId,
    trigger: parts.trigger,
    startedAt: parts.startedAt,
    finishedAt: parts.finishedAt,
    status: runStatus(parts.coverage, findings),
    cloudstack: parts.cloudstack,
    coverage: parts.coverage,
    summary: summarise(findings, resolved),
    findings,
    resolved,
    pending,
    expiredSuppressions: parts.expiredSuppressions,
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
