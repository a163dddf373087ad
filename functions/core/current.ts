// The current view (current/report.*): every open and suppressed finding of the ledger now, each with
// when it was last verified, and each store as its last full audit saw it. Many small runs (event
// audits of one bucket) and one nightly audit all move the ledger; this view is the one picture of
// all of them. Pure: the ledger in, a report out.
import type { Ledger, LedgerEntry } from './ledger.js';
import { fullyVerified } from './ledger.js';
import type { Finding, StoreCoverage } from './model.js';
import type { Pricing, Report, ReportedAction, RunStatus } from './report.js';
import { summarise } from './report.js';
import { RULES } from './rules/index.js';

export function currentReport(ledger: Ledger, asOf: Date, pricing?: Pricing): Report {
  const at = asOf.toISOString();
  const findings = Object.entries(ledger.entries).flatMap(([id, entry]) =>
    entry.status === 'new' || entry.status === 'open' || entry.status === 'suppressed'
      ? [currentFinding(id, entry)]
      : [],
  );
  const coverage: StoreCoverage[] = Object.values(ledger.stores ?? {}).map((s) => ({
    ...s.coverage,
    lastFullVerification: s.lastFullVerification,
  }));
  // A store that findings name but no full audit has covered yet: known, never verified.
  for (const f of findings) {
    if (coverage.some((c) => c.store.uuid === f.store.uuid)) continue;
    coverage.push(neverAudited(f));
  }
  return {
    schemaVersion: 1,
    kind: 'current',
    asOf: at,
    runId: ledger.lastRunId ?? 'none',
    trigger: 'cli',
    startedAt: ledger.updatedAt,
    finishedAt: ledger.updatedAt,
    status: currentStatus(coverage, findings),
    scope: { stores: [], rules: [], buckets: [] },
    cloudstack: { schema: '4.19', database: '', readAt: ledger.updatedAt },
    coverage,
    summary: summarise(findings, [], pricing),
    findings,
    resolved: [],
    pending: [],
    expiredSuppressions: [],
    actions: recentActions(ledger, asOf),
  };
}

/** Every action of the last 30 days, on any finding (a healed one is resolved: its trail is here). */
function recentActions(ledger: Ledger, asOf: Date): ReportedAction[] {
  const since = asOf.getTime() - 30 * 86_400_000;
  return Object.entries(ledger.entries)
    .flatMap(([findingId, e]) =>
      (e.actions ?? [])
        .filter((a) => Date.parse(a.at) >= since)
        .map((a) => ({ findingId, rule: e.rule, store: e.store.name, bucket: e.bucket, ...a })),
    )
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, 500);
}

/**
 * Incomplete while any store's last full audit left something unverified (or none has covered it
 * yet); else drift while any finding is open; in sync only with neither. It never says in sync
 * while the ledger holds an open finding.
 */
function currentStatus(coverage: StoreCoverage[], findings: Finding[]): RunStatus {
  const unverified = coverage.some(
    (c) => c.status !== 'skipped' && (c.lastFullVerification === null || !fullyVerified(c)),
  );
  if (unverified || !coverage.length) return 'incomplete';
  return findings.some((f) => f.status !== 'suppressed') ? 'drift' : 'in_sync';
}

function currentFinding(id: string, entry: LedgerEntry): Finding {
  const status = entry.status === 'suppressed' ? 'suppressed' : entry.status === 'new' ? 'new' : 'open';
  const lastVerifiedAt = entry.observedAt ?? entry.lastSeen;
  const base = entry.finding ?? {
    // Entries written before 0.10 keep no report of the finding: its identity, and where to look.
    id,
    rule: entry.rule,
    severity: RULES[entry.rule].defaultSeverity,
    status,
    store: { id: 0, uuid: entry.store.uuid, name: entry.store.name, provider: '', endpoint: '' },
    bucket: entry.bucket,
    dbBucket: null,
    owner: null,
    ...(entry.attribute !== undefined ? { attribute: entry.attribute } : {}),
    message: `${entry.rule} on ${entry.bucket ?? entry.store.name}: recorded before this version kept each finding's report; the next full audit fills it in.`,
    evidence: {},
    remediation: {
      summary: 'See the report of the run that found it.',
      steps: ["Run a full audit (csdrift audit): the ledger then keeps this finding's report."],
    },
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
  };
  return {
    ...base,
    id,
    status,
    firstSeen: entry.firstSeen,
    lastSeen: entry.lastSeen,
    lastVerifiedAt,
    ...(entry.actions?.length ? { actions: entry.actions } : {}),
  };
}

function neverAudited(f: Finding): StoreCoverage {
  return {
    store: f.store,
    status: 'partial',
    bucketsInDb: 0,
    bucketsInStore: 0,
    checks: {},
    error: 'no full audit of this store is in the ledger yet',
    evidence: { requests: 0, startedAt: f.firstSeen, finishedAt: f.firstSeen },
    lastFullVerification: null,
  };
}
