// Inventory and scans in, findings and coverage out. No I/O.
import type { AuditConfig } from './config.js';
import { faultText } from './errors.js';
import { findingId } from './fingerprint.js';
import type {
  AccountRecord,
  UsageDbReading,
  CheckStatus,
  CheckVerdict,
  CloudStackInventory,
  DbBucket,
  Finding,
  RuleFinding,
  RuleId,
  StoreCoverage,
  StoreRecord,
  StoreScan,
} from './model.js';
import { SEVERITIES, bucketsByStore, isActive, storeRef } from './model.js';
import { RULES } from './rules/index.js';
import type { Rule, RuleContext, StoreView } from './rules/index.js';
import type { StoreTotals } from './rules/rule.js';
import { totalsOf } from './store-totals.js';
import { meetsGate } from './rules/rule.js';
import type { SuppressionVerdict } from './suppressions.js';
import { suppressionsFor } from './suppressions.js';
import { visible } from './shell.js';

export interface EvaluateInput {
  inventory: CloudStackInventory;
  scans: StoreScan[];
  /** Rows read again after the scan for the candidates of core/recheck.ts. */
  recheckedRows: DbBucket[];
  config: AuditConfig;
  /** Rules in scope (--rule); all enabled rules when empty. */
  rules: RuleId[];
  /** Buckets in scope (--bucket); every bucket when empty. */
  buckets?: string[];
  now: Date;
  /**
   * A large store is judged in parts: each partition of its names with every rule but the
   * `wholeStore` ones (`partition`), then once with those alone on its totals (`store`). Both at
   * once when unset: the inventory and scans are the whole store.
   */
  pass?: 'partition' | 'store';
  /** For the `store` pass: each store's totals (by store id), added up over its partitions. */
  totals?: ReadonlyMap<number, StoreTotals>;
}

export interface Evaluation {
  findings: Finding[];
  coverage: StoreCoverage[];
  /** Each store's totals as this evaluation saw them (by store id): what its partitions add up. */
  totals: Map<number, StoreTotals>;
}

/** The enabled rules asked for; a run scoped to named buckets leaves out the store-level rules. */
export function rulesInScope(
  config: AuditConfig,
  requested: RuleId[],
  buckets: string[] = [],
): Rule<RuleId>[] {
  const ids = requested.length ? requested : (Object.keys(RULES) as RuleId[]);
  return ids
    .filter((id) => config.rules[id]?.enabled !== false)
    .map((id) => RULES[id])
    .filter((rule) => !(buckets.length && rule.storeLevel));
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { inventory, config, now } = input;
  const scansById = new Map(input.scans.map((s) => [s.storeId, s]));
  const dbByStore = bucketsByStore(inventory.buckets);
  const recheckedByStore = bucketsByStore(input.recheckedRows);
  const views: StoreView[] = inventory.stores.flatMap((store) => {
    const scan = scansById.get(store.id);
    if (!scan) return [];
    const view = storeView(
      store,
      scan,
      dbByStore.get(store.id) ?? [],
      recheckedByStore.get(store.id) ?? [],
      input.inventory.billingUnreadable,
      input.inventory.accounts,
      input.inventory.usageDb,
    );
    return [{ ...view, totals: input.totals?.get(store.id) ?? totalsOf(view) }];
  });
  const contextOf = (rule: Rule<RuleId>): RuleContext => ({
    now,
    gracePeriodMinutes: config.gracePeriodMinutes,
    options: config.rules[rule.id] ?? {},
  });
  const rules = rulesInScope(config, input.rules, input.buckets).filter(
    (rule) => !input.pass || (input.pass === 'store') === (rule.wholeStore === true),
  );
  const at = now.toISOString();
  const suppression = suppressionsFor(config.suppressions, now);

  const findings: Finding[] = [];
  const coverage: StoreCoverage[] = views.map((view) => {
    const verdicts = rules.map((rule) => {
      const judged = judge(rule, view, contextOf(rule));
      for (const f of judged.findings)
        findings.push(toFinding(rule, f, config, suppression(rule.id, f.store, f.bucket), at));
      return [rule.id, judged.verdict] as const;
    });
    return storeCoverage(view, verdicts);
  });
  return {
    findings: sortFindings(findings),
    coverage,
    totals: new Map(views.map((v) => [v.store.id, v.totals])),
  };
}

/** The order of a report's findings: by severity, rule, store, then bucket. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.rule.localeCompare(b.rule) ||
      a.store.name.localeCompare(b.store.name) ||
      (a.bucket ?? '').localeCompare(b.bucket ?? ''),
  );
}

/** The engine's pairing of one store's DB rows and store buckets, done once for every rule. */
function storeView(
  store: StoreRecord,
  scan: StoreScan,
  dbBuckets: DbBucket[],
  recheckedRows: DbBucket[],
  billingUnreadable: string | undefined,
  accounts: readonly AccountRecord[] | undefined,
  usageDb: UsageDbReading | undefined,
): Omit<StoreView, 'totals'> {
  const dbByName = new Map<string, DbBucket[]>();
  for (const b of dbBuckets) {
    const rows = dbByName.get(b.name);
    if (rows) rows.push(b);
    else dbByName.set(b.name, [b]);
  }
  const storeByName = new Map(scan.buckets.map((b) => [b.name, b]));
  return {
    store,
    scan,
    dbBuckets,
    dbByName,
    storeByName,
    storeBucketNames: new Set(storeByName.keys()),
    recheckedRows,
    ...(billingUnreadable ? { billingUnreadable } : {}),
    ...(accounts ? { accounts } : {}),
    ...(usageDb ? { usageDb } : {}),
  };
}

/**
 * One rule on one store, behind the gate every rule shares: a store that is not verified as far as
 * the rule needs is never judged by it, and a rule that throws is that rule unverified on that
 * store, its error named, while every other rule and store carries on (cdk-nag's way with a
 * throwing check).
 */
function judge(
  rule: Rule,
  view: StoreView,
  ctx: RuleContext,
): { verdict: CheckVerdict; findings: RuleFinding[] } {
  if (view.scan.internalError && rule.needs !== 'db') {
    return {
      verdict: { status: 'unverified', why: `csdrift could not scan the store: ${view.scan.internalError}` },
      findings: [],
    };
  }
  try {
    const verdict = asVerdict(rule.coverage(view, ctx));
    if (verdict.status === 'not_applicable' || !meetsGate(rule.needs, view.scan))
      return { verdict, findings: [] };
    return { verdict, findings: rule.evaluate(view, ctx) };
  } catch (err) {
    return {
      verdict: { status: 'unverified', why: `internal error in rule ${rule.id}: ${faultText(err)}` },
      findings: [],
    };
  }
}

function storeCoverage(view: StoreView, verdicts: (readonly [RuleId, CheckVerdict])[]): StoreCoverage {
  // A verified check may carry a note too: what it could not read and did not need (unread service accounts).
  const notes = verdicts.filter(([, v]) => v.why);
  const inStore = view.scan.buckets.length;
  const internal = verdicts.filter(([, v]) => v.why?.startsWith('internal error in rule'));
  return {
    store: storeRef(view.store),
    status: view.scan.status,
    bucketsInDb: view.dbBuckets.filter(isActive).length,
    bucketsInStore: inStore,
    checks: Object.fromEntries(verdicts.map(([id, v]) => [id, v.status])),
    ...(view.scan.error ? { error: view.scan.error } : {}),
    ...(view.scan.internalError
      ? { internalError: view.scan.internalError }
      : internal.length
        ? { internalError: internal.map(([, v]) => v.why).join('; ') }
        : {}),
    evidence: {
      requests: view.scan.requests,
      ...(inStore ? { requestsPerBucket: Math.round((view.scan.requests / inStore) * 100) / 100 } : {}),
      startedAt: view.scan.startedAt,
      finishedAt: view.scan.finishedAt,
      ...(notes.length ? { checkNotes: Object.fromEntries(notes.map(([id, v]) => [id, v.why])) } : {}),
      ...(view.scan.unusableNames ? { unusableBucketNames: view.scan.unusableNames } : {}),
    },
  };
}

function asVerdict(v: CheckStatus | CheckVerdict): CheckVerdict {
  return typeof v === 'string' ? { status: v } : v;
}

function toFinding(
  rule: Rule<RuleId>,
  f: RuleFinding,
  config: AuditConfig,
  suppression: SuppressionVerdict,
  at: string,
): Finding {
  const db = f.dbBucket;
  return {
    id: findingId(rule.id, f.store.uuid, f.bucket, f.attribute),
    rule: rule.id,
    severity: config.rules[rule.id]?.severity ?? rule.defaultSeverity,
    status: suppression.active ? 'suppressed' : 'new',
    store: f.store,
    bucket: f.bucket,
    dbBucket: db
      ? { id: db.id, uuid: db.uuid, state: db.state, created: db.created, removed: db.removed }
      : null,
    owner: db?.owner ?? null,
    ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
    ...(f.billedButGoneBytes ? { billedButGoneBytes: f.billedButGoneBytes } : {}),
    ...(f.attribute !== undefined ? { attribute: f.attribute } : {}),
    ...(f.expected !== undefined ? { expected: f.expected } : {}),
    ...(f.actual !== undefined ? { actual: f.actual } : {}),
    // Names come from stores and rows: shown escaped wherever the text goes (shell.ts).
    message: visible(f.message),
    evidence: {
      ...f.evidence,
      ...(suppression.active ? { suppression: suppression.active } : {}),
      ...(suppression.expired ? { suppressionExpired: suppression.expired } : {}),
    },
    remediation: { summary: visible(f.remediation.summary), steps: f.remediation.steps.map(visible) },
    firstSeen: at,
    lastSeen: at,
  };
}

const CHECK_ORDER: CheckStatus[] = ['unverified', 'verified', 'not_applicable'];

/**
 * One store's coverage from its parts: each partition's (every rule but the `wholeStore` ones) and
 * the store pass's. A rule unverified in any partition is unverified for the store; its counts are
 * added up; status, error and cost are the store scan's own (`whole`, the pass that saw its summary).
 */
export function mergeCoverage(whole: StoreCoverage, partitions: StoreCoverage[]): StoreCoverage {
  const checks: StoreCoverage['checks'] = {};
  const notes: Partial<Record<RuleId, string>> = {};
  const internal = new Set<string>();
  for (const part of partitions) {
    for (const [rule, status] of Object.entries(part.checks) as [RuleId, CheckStatus][]) {
      const known = checks[rule];
      if (!known || CHECK_ORDER.indexOf(status) < CHECK_ORDER.indexOf(known)) checks[rule] = status;
    }
    for (const [rule, note] of Object.entries(part.evidence.checkNotes ?? {}) as [RuleId, string][])
      notes[rule] ??= note;
    if (part.internalError && part.internalError !== whole.internalError) internal.add(part.internalError);
  }
  Object.assign(checks, whole.checks);
  Object.assign(notes, whole.evidence.checkNotes ?? {});
  const inStore = partitions.reduce((n, c) => n + c.bucketsInStore, 0);
  const { requestsPerBucket: _perBucket, checkNotes: _notes, ...evidence } = whole.evidence;
  const internalError = [whole.internalError, ...internal].filter(Boolean).join('; ');
  return {
    ...whole,
    bucketsInDb: partitions.reduce((n, c) => n + c.bucketsInDb, 0),
    bucketsInStore: inStore,
    checks,
    ...(internalError ? { internalError } : {}),
    evidence: {
      ...evidence,
      ...(inStore ? { requestsPerBucket: Math.round((evidence.requests / inStore) * 100) / 100 } : {}),
      ...(Object.keys(notes).length ? { checkNotes: notes } : {}),
    },
  };
}
