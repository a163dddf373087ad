import type * as z from 'zod';
import type { RulesConfig } from './options.js';
import type {
  BucketAttribute,
  CheckStatus,
  CheckVerdict,
  DbBucket,
  RuleFinding,
  RuleId,
  Severity,
  StoreBucket,
  StoreRecord,
  StoreScan,
} from '../model.js';

/**
 * One store as the rules see it: its record, its DB rows and what its scan found, paired once by
 * the engine so that no rule pairs them again.
 */
export interface StoreView {
  store: StoreRecord;
  dbBuckets: DbBucket[];
  /** This store's DB rows by bucket name (active and removed). */
  dbByName: ReadonlyMap<string, DbBucket[]>;
  scan: StoreScan;
  storeBucketNames: ReadonlySet<string>;
  /** The store's buckets by name. */
  storeByName: ReadonlyMap<string, StoreBucket>;
  /** This store's rows read again after the scan, for every drift candidate (see core/recheck.ts). */
  recheckedRows: DbBucket[];
}

export interface RuleContext {
  now: Date;
  gracePeriodMinutes: number;
  /** Each rule's options from the config (tolerances and the like). */
  options: RulesConfig;
}

/**
 * What a store's scan must have achieved before a rule may judge it. The engine applies this gate
 * once for every rule, so "no verdict on a store that was not verified" lives in one place:
 * - `db`: CloudStack's own records only; judged on every store, skipped ones included;
 * - `listed`: presence in a listing is positive evidence, so any store that was read at all;
 * - `verified`: the store answered everything asked of it;
 * - `complete`: verified, and its listing complete: only this may support a conclusion of absence.
 */
export type StoreGate = 'db' | 'listed' | 'verified' | 'complete';

export interface Rule {
  id: RuleId;
  defaultSeverity: Severity;
  /** One line for the README and the report's readers. */
  description: string;
  /** The bucket attribute the rule compares, which the scan must read for it. */
  attribute?: BucketAttribute;
  /** Further attributes the rule reads to tell a store-forced state from drift (see store-forced.ts). */
  alsoReads?: readonly BucketAttribute[];
  needs: StoreGate;
  /** Judges the store as a whole (its totals): out of a run scoped to named buckets. */
  storeLevel?: true;
  /** The options this rule takes beyond enabled, severity and confirmRuns: any other is a config error. */
  options?: Record<string, z.ZodType>;
  /** Whether this rule's verdict for the store can be trusted this run (and if not, why). */
  coverage(view: StoreView, ctx: RuleContext): CheckStatus | CheckVerdict;
  /** The findings on one store the engine has let the rule judge. */
  evaluate(view: StoreView, ctx: RuleContext): RuleFinding[];
}

/** Whether the scan meets the gate. */
export function meetsGate(gate: StoreGate, scan: StoreScan): boolean {
  switch (gate) {
    case 'db':
      return true;
    case 'listed':
      return scan.status !== 'skipped' && !scan.internalError;
    case 'verified':
      return scan.status === 'verified';
    case 'complete':
      return scan.status === 'verified' && scan.listingComplete;
  }
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
