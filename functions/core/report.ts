// The report of docs/contract.md (schemaVersion 1), its status and the exit code it implies.
import type { FindingAction, LedgerUpdate, PendingFinding, ResolvedFinding } from './ledger.js';
import type { CloudStackSchema, Finding, Severity, StoreCoverage } from './model.js';
import { SEVERITIES } from './model.js';
import type { RuleId } from './model.js';
import { RULES } from './rules/index.js';

export type RunStatus = 'in_sync' | 'drift' | 'incomplete' | 'error';
export type Trigger = 'schedule' | 'manual' | 'cli' | 'event';

/** What a run covered; an empty list means all. A scoped run changes findings inside its scope only. */
export interface RunScope {
  stores: string[];
  rules: string[];
  buckets: string[];
}

/** One point of the trend: when, open findings by severity, unbilled bytes (where known). */
export interface TrendPoint {
  at: string;
  runId: string;
  openBySeverity: Record<string, number>;
  unbilledBytes?: number;
}

/** What a full run's report carries of the history: the trend, and the full run before it. */
export interface ReportTrend {
  points: TrendPoint[];
  previous?: { at: string; runId: string; open: number; unbilledBytes?: number; misbilledBytes?: number };
}

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
  /** `current`: the ledger's open findings now (current/report.*), not one run's. Absent: one run's report. */
  kind?: 'current';
  /** The current view: when it was made from the ledger. */
  asOf?: string;
  runId: string;
  trigger: Trigger;
  startedAt: string;
  finishedAt: string;
  status: RunStatus;
  scope: RunScope;
  cloudstack: {
    schema: CloudStackSchema;
    database: string;
    readAt: string;
    /** Bucket rows whose object_store_id names no store: listed, never judged (CloudStackInventory). */
    rowsWithoutStore?: { count: number; bucketIds: number[] };
    /** Bucket rows this run read: the inventory's and the re-read's. A targeted audit reads only its buckets'. */
    bucketRowsRead?: number;
  };
  coverage: StoreCoverage[];
  /** Full runs only: the last 90 full runs (from the history beside the ledger) and the one before. */
  trend?: ReportTrend;
  summary: {
    findings: number;
    new: number;
    open: number;
    resolved: number;
    suppressed: number;
    bySeverity: Partial<Record<Severity, number>>;
    byRule: Record<string, number>;
    /**
     * Over unsuppressed findings: bytes stored that nobody is billed for, bytes billed wrongly,
     * and how many of those findings' stores could not tell a size (counted in neither sum).
     */
    bytes: { unbilled: number; misbilled: number; unknownSize: number; billedButGone: number };
    /** With config `pricing`: what those bytes cost a month. */
    monthlyCost?: { unbilled: number; misbilled: number; billedButGone: number; currency: string };
  };
  findings: Finding[];
  resolved: ResolvedFinding[];
  /** Seen, but not yet on as many consecutive runs as their rule's `confirmRuns` asks. */
  pending: PendingFinding[];
  /** Config suppressions past their expiry: they no longer apply. */
  expiredSuppressions: ExpiredSuppression[];
  /** The current view: the actions of the last 30 days on any finding (resolved ones too), newest first. */
  actions?: ReportedAction[];
}

/** One action of a finding's trail, named by its finding (the current view's `actions`). */
export interface ReportedAction extends FindingAction {
  findingId: string;
  rule: string;
  store: string;
  bucket: string | null;
}

/** What the report is of, in one line for its header: a run (full or targeted) or the current view. */
export function reportHeadline(report: Report): string {
  if (report.kind === 'current') {
    return `Current view as of ${report.asOf ?? report.finishedAt}: every open and suppressed finding of the ledger (last run ${report.runId})`;
  }
  const scope = report.scope ?? { stores: [], rules: [], buckets: [] };
  const targets = [
    scope.buckets.length
      ? `${scope.buckets.length} bucket(s): ${scope.buckets.slice(0, 5).join(', ')}${scope.buckets.length > 5 ? ', …' : ''}`
      : '',
    scope.stores.length ? `store(s) ${scope.stores.join(', ')}` : '',
    scope.rules.length ? `rule(s) ${scope.rules.join(', ')}` : '',
  ].filter(Boolean);
  const what = targets.length
    ? `Targeted run (${report.trigger}): ${targets.join('; ')}`
    : `Full run (${report.trigger})`;
  return `${what}, ${report.runId}, ${report.startedAt} to ${report.finishedAt}`;
}

export const EXIT = { inSync: 0, drift: 1, incomplete: 2, error: 3 } as const;

const UNVERIFIED = new Set(['partial', 'unreachable', 'auth_failed']);

export function runStatus(coverage: StoreCoverage[], findings: Finding[]): RunStatus {
  // A check that could not be verified (a bucket whose policy was unreadable) leaves the run incomplete too.
  if (coverage.some((c) => UNVERIFIED.has(c.status) || Object.values(c.checks).includes('unverified')))
    return 'incomplete';
  return findings.some((f) => f.status !== 'suppressed') ? 'drift' : 'in_sync';
}

/** The checks a store's coverage left unverified, each with why (the report's checkNotes). */
export function unverifiedChecks(c: StoreCoverage): { rule: RuleId; why: string }[] {
  return (Object.entries(c.checks) as [RuleId, string][])
    .filter(([, status]) => status === 'unverified')
    .map(([rule]) => ({ rule, why: c.evidence.checkNotes?.[rule] ?? 'no reason recorded' }));
}

/**
 * A store's coverage in a few words, as every view says it: `verified` only when the store and every
 * check on it were; else what was not (`verified, 2 checks not`), so that "verified" never stands
 * beside an incomplete run without its reason.
 */
export function coverageLabel(c: StoreCoverage): string {
  const open = unverifiedChecks(c).length;
  if (c.status !== 'verified' || !open) return c.status.replace('_', ' ');
  return `verified, ${open} check${open === 1 ? '' : 's'} not`;
}

/** Why a run is incomplete, one line per store and check, or none when it is not. */
export function whyIncomplete(report: Pick<Report, 'coverage'>): string[] {
  return report.coverage.flatMap((c) => [
    ...(UNVERIFIED.has(c.status)
      ? [`store ${c.store.name} is ${c.status.replace('_', ' ')}${c.error ? `: ${c.error}` : ''}`]
      : []),
    ...unverifiedChecks(c).map(({ rule, why }) => `store ${c.store.name}: ${rule} not verified: ${why}`),
  ]);
}

/** Whether a finding's data is stored and billed to nobody, billed wrongly, or neither (its rule says). */
export function billingOf(rule: RuleId): 'unbilled' | 'misbilled' | undefined {
  return RULES[rule].billing;
}
const GIB = 1024 ** 3;

export interface Pricing {
  perGiBMonth: number;
  currency: string;
}

/** The bytes at stake over unsuppressed findings, and with pricing what they cost a month. */
export function bytesAtStake(
  findings: Finding[],
  pricing?: Pricing,
): Pick<Report['summary'], 'bytes' | 'monthlyCost'> {
  const bytes = { unbilled: 0, misbilled: 0, unknownSize: 0, billedButGone: 0 };
  for (const f of findings) {
    if (f.status === 'suppressed') continue;
    bytes.billedButGone += f.billedButGoneBytes ?? 0;
    const kind = billingOf(f.rule) ?? null;
    if (!kind) continue;
    if (f.bytes === undefined) bytes.unknownSize += 1;
    else bytes[kind] += f.bytes;
  }
  const cost = (n: number) => Math.round((n / GIB) * (pricing?.perGiBMonth ?? 0) * 100) / 100;
  return {
    bytes,
    ...(pricing
      ? {
          monthlyCost: {
            unbilled: cost(bytes.unbilled),
            misbilled: cost(bytes.misbilled),
            billedButGone: cost(bytes.billedButGone),
            currency: pricing.currency,
          },
        }
      : {}),
  };
}

export function summarise(
  findings: Finding[],
  resolved: ResolvedFinding[] = [],
  pricing?: Pricing,
): Report['summary'] {
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
    ...bytesAtStake(findings, pricing),
  };
}

export interface ReportParts {
  runId: string;
  trigger: Trigger;
  scope: RunScope;
  startedAt: string;
  finishedAt: string;
  cloudstack: Report['cloudstack'];
  coverage: StoreCoverage[];
  lifecycle: Pick<LedgerUpdate, 'findings' | 'resolved' | 'pending'>;
  expiredSuppressions: ExpiredSuppression[];
  pricing?: Pricing;
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
    scope: parts.scope,
    cloudstack: parts.cloudstack,
    coverage: parts.coverage,
    summary: summarise(findings, resolved, parts.pricing),
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
