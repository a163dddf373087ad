// Inventory and scans in, findings and coverage out. No I/O.
import type { AuditConfig } from './config.js';
import { findingId } from './fingerprint.js';
import type {
  CheckStatus,
  CheckVerdict,
  CloudStackInventory,
  DbBucket,
  Finding,
  RuleFinding,
  RuleId,
  StoreCoverage,
  StoreScan,
} from './model.js';
import { SEVERITIES, bucketsByStore, isActive, storeRef } from './model.js';
import { RULES } from './rules/index.js';
import type { Rule, RuleContext, StoreView } from './rules/index.js';
import type { SuppressionVerdict } from './suppressions.js';
import { suppressionsFor } from './suppressions.js';

export interface EvaluateInput {
  inventory: CloudStackInventory;
  scans: StoreScan[];
  /** Rows read again after the scan for the candidates of core/recheck.ts. */
  recheckedRows: DbBucket[];
  config: AuditConfig;
  /** Rules in scope (--rule); all enabled rules when empty. */
  rules: RuleId[];
  now: Date;
}

export interface Evaluation {
  findings: Finding[];
  coverage: StoreCoverage[];
}

export function rulesInScope(config: AuditConfig, requested: RuleId[]): Rule[] {
  const ids = requested.length ? requested : (Object.keys(RULES) as RuleId[]);
  return ids.filter((id) => config.rules[id]?.enabled !== false).map((id) => RULES[id]);
}

export function evaluate(input: EvaluateInput): Evaluation {
  const { inventory, config, now } = input;
  const scansById = new Map(input.scans.map((s) => [s.storeId, s]));
  const dbByStore = bucketsByStore(inventory.buckets);
  const recheckedByStore = bucketsByStore(input.recheckedRows);
  const views: StoreView[] = inventory.stores.flatMap((store) => {
    const scan = scansById.get(store.id);
    if (!scan) return [];
    return [
      {
        store,
        scan,
        dbBuckets: dbByStore.get(store.id) ?? [],
        storeBucketNames: new Set(scan.buckets.map((b) => b.name)),
        recheckedRows: recheckedByStore.get(store.id) ?? [],
      },
    ];
  });
  const ctx: RuleContext = {
    now,
    gracePeriodMinutes: config.gracePeriodMinutes,
    stores: views,
    options: config.rules,
  };
  const rules = rulesInScope(config, input.rules);
  const at = now.toISOString();

  const suppression = suppressionsFor(config.suppressions, now);
  const findings = rules.flatMap((rule) =>
    rule.evaluate(ctx).map((f) => toFinding(rule, f, config, suppression(rule.id, f.store, f.bucket), at)),
  );
  findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      a.rule.localeCompare(b.rule) ||
      a.store.name.localeCompare(b.store.name) ||
      (a.bucket ?? '').localeCompare(b.bucket ?? ''),
  );

  const coverage: StoreCoverage[] = views.map((view) => {
    const verdicts = rules.map((r) => [r.id, asVerdict(r.coverage(view, ctx))] as const);
    const notes = verdicts.filter(([, v]) => v.why && v.status !== 'verified');
    const inStore = view.scan.buckets.length;
    return {
      store: storeRef(view.store),
      status: view.scan.status,
      bucketsInDb: view.dbBuckets.filter(isActive).length,
      bucketsInStore: inStore,
      checks: Object.fromEntries(verdicts.map(([id, v]) => [id, v.status])),
      ...(view.scan.error ? { error: view.scan.error } : {}),
      evidence: {
        requests: view.scan.requests,
        ...(inStore ? { requestsPerBucket: Math.round((view.scan.requests / inStore) * 100) / 100 } : {}),
        startedAt: view.scan.startedAt,
        finishedAt: view.scan.finishedAt,
        ...(notes.length ? { checkNotes: Object.fromEntries(notes.map(([id, v]) => [id, v.why])) } : {}),
      },
    };
  });
  return { findings, coverage };
}

function asVerdict(v: CheckStatus | CheckVerdict): CheckVerdict {
  return typeof v === 'string' ? { status: v } : v;
}

function toFinding(
  rule: Rule,
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
    ...(f.attribute !== undefined ? { attribute: f.attribute } : {}),
    ...(f.expected !== undefined ? { expected: f.expected } : {}),
    ...(f.actual !== undefined ? { actual: f.actual } : {}),
    message: f.message,
    evidence: {
      ...f.evidence,
      ...(suppression.active ? { suppression: suppression.active } : {}),
      ...(suppression.expired ? { suppressionExpired: suppression.expired } : {}),
    },
    remediation: f.remediation,
    firstSeen: at,
    lastSeen: at,
  };
}
