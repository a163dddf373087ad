import type { AuditConfig } from '../config.js';
import type {
  BucketAttribute,
  CheckStatus,
  CheckVerdict,
  DbBucket,
  RuleFinding,
  RuleId,
  Severity,
  StoreRecord,
  StoreScan,
} from '../model.js';

/** One store as the rules see it: its record, its DB rows and what its scan found. */
export interface StoreView {
  store: StoreRecord;
  dbBuckets: DbBucket[];
  scan: StoreScan;
  storeBucketNames: ReadonlySet<string>;
  /** This store's rows read again after the scan, for every drift candidate (see core/recheck.ts). */
  recheckedRows: DbBucket[];
}

export interface RuleContext {
  now: Date;
  gracePeriodMinutes: number;
  stores: StoreView[];
  /** Each rule's options from the config (tolerances and the like). */
  options: AuditConfig['rules'];
}

export interface Rule {
  id: RuleId;
  defaultSeverity: Severity;
  /** One line for the README and the report's readers. */
  description: string;
  /** The bucket attribute the rule compares, which the scan must read for it. */
  attribute?: BucketAttribute;
  /** Whether this rule's verdict for the store can be trusted this run (and if not, why). */
  coverage(view: StoreView, ctx: RuleContext): CheckStatus | CheckVerdict;
  evaluate(ctx: RuleContext): RuleFinding[];
}

/** A row created within the grace period may still be in flight: CloudStack creates asynchronously. */
export function isPastGrace(
  created: string | null | undefined,
  ctx: Pick<RuleContext, 'now' | 'gracePeriodMinutes'>,
): boolean {
  if (!created) return true;
  return ctx.now.getTime() - Date.parse(created) >= ctx.gracePeriodMinutes * 60_000;
}

export function fullyListed(view: StoreView): CheckStatus {
  if (view.scan.status === 'skipped') return 'not_applicable';
  return view.scan.status === 'verified' && view.scan.listingComplete ? 'verified' : 'unverified';
}

export function seenInStore(view: StoreView): CheckStatus {
  if (view.scan.status === 'skipped') return 'not_applicable';
  return view.scan.status === 'verified' ? 'verified' : 'unverified';
}

/** True when the second read shows a row with this name (optionally: only active ones) on the store. */
export function rowNow(view: StoreView, name: string, activeOnly: boolean): boolean {
  return view.recheckedRows.some(
    (r) => r.name === name && (!activeOnly || (r.removed === null && r.state !== 'Destroyed')),
  );
}

export function dbOnly(): CheckStatus {
  return 'verified';
}

export function ownerText(bucket: DbBucket): string {
  const o = bucket.owner;
  if (!o) return 'an unknown account';
  const who = o.projectName ? `project ${o.projectName}` : `account ${o.accountName}`;
  return `${who} (${o.accountUuid}) in domain ${o.domainPath}`;
}
