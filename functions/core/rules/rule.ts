// A rule is one object carrying everything about it (after cdk-nag): its id, severity and texts, its
// options, what a store's scan must achieve and read for it, its billing class, and its remediation.
// The engine, the scan, the config schema, the ledger, the report's money figures, remediation,
// `csdrift rules` and the README's rules table all read it from the registry (index.ts).
import type {
  AccountRecord,
  BucketAttribute,
  UsageDbReading,
  CheckStatus,
  CheckVerdict,
  DbBucket,
  Finding,
  RuleFinding,
  Severity,
  StoreBucket,
  StoreRecord,
  StoreScan,
} from '../model.js';
import type { RemediationStep } from '../remediation-steps.js';
import type { NoOptions, OptionsShape, RuleOptions } from './options.js';

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
  /** Why bucket_statistics could not be read, when it could not: the billing rules do not apply. */
  billingUnreadable?: string;
  /** Every account, removed ones included (full runs): whose store users are whose. */
  accounts?: readonly AccountRecord[];
  /** With config `usageDb`: whether the usage database was read (each row's usageSinceRemoval), or why not. */
  usageDb?: UsageDbReading;
  /**
   * The whole store's figures, whatever part of it this view holds: a large store is judged a
   * partition of its names at a time, and a `wholeStore` rule once, on these alone.
   */
  totals: StoreTotals;
}

/** What a `wholeStore` rule reads of a whole store: added up over its partitions (core/store-totals.ts). */
export interface StoreTotals {
  /** The store's active rows, and what their sizes (bytes) and quotas (GB) add up to. */
  activeRows: number;
  activeSize: number;
  activeQuotaGb: number;
  /**
   * Per store user: the buckets of this store it owns (Ceph) or its policies grant (MinIO), as a
   * count and the first few names.
   */
  holdings: Record<string, { count: number; examples: string[] }>;
}

export interface RuleContext<Shape extends OptionsShape = OptionsShape> {
  now: Date;
  gracePeriodMinutes: number;
  /** This rule's options from the config (tolerances and the like), typed and checked by its schema. */
  options: RuleOptions<Shape>;
}

/** When rows are judged: the run's clock and the grace period for rows CloudStack is still creating. */
export type Grace = Pick<RuleContext, 'now' | 'gracePeriodMinutes'>;

/** What a rule needs a store's scan to do for it, beyond listing the store. */
export interface RuleScanNeeds {
  /** Rows whose absence from the store the rule would conclude: each confirmed by a HEAD when unlisted. */
  confirmAbsent?(rows: DbBucket[], grace: Grace): DbBucket[];
  /** Bucket attributes the rule compares (and further ones it reads to tell store-forced states from drift)… */
  attributes?: readonly BucketAttribute[];
  /** …read for these rows. */
  inspect?(rows: DbBucket[], grace: Grace): readonly DbBucket[];
  /** The store's users, keys and groups (a full run only: every user is read once). */
  principals?: true;
}

/** A rule's automated fix: CloudStack API calls and checks that `csdrift remediate` carries out. */
export interface RuleRemediation {
  /** Why this finding has no plan though its rule has one (a provider bug, no recorded value). */
  whyNot?(finding: Finding): string | undefined;
  plan(finding: Finding): RemediationStep[];
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

export interface Rule<Id extends string = string, Shape extends OptionsShape = OptionsShape> {
  id: Id;
  defaultSeverity: Severity;
  /** One line: what drift the rule finds (`csdrift rules`, the HTML report's legend). */
  summary: string;
  /** When exactly it reports, and what to do about it: the README's rules table. */
  when: string;
  whatToDo: string;
  /** What it reads, in the database and in the store: the README's rules table. */
  reads: string;
  needs: StoreGate;
  /** Judges the store as a whole (its totals, its users): out of a run scoped to named buckets. */
  storeLevel?: true;
  /**
   * Judged once per store, on `StoreView.totals` and the scan's summary (no rows, no buckets), not a
   * partition of the store's names at a time: what it finds is one finding for the whole store.
   */
  wholeStore?: true;
  /** The options this rule takes beyond enabled, severity and confirmRuns: any other is a config error. */
  options?: Shape;
  scan?: RuleScanNeeds;
  /** The data a finding of this rule puts at stake: stored and billed to nobody, or billed wrongly. */
  billing?: 'unbilled' | 'misbilled';
  /**
   * Its findings are about buckets a store has: a later listing that leaves one out must confirm
   * its absence before the finding is resolved (core/ledger.ts bucketsLastSeenInStore).
   */
  tracksPresence?: true;
  /** An automated fix `csdrift remediate --apply` may run (with `rules.<id>.remediate: true`). */
  remediation?: RuleRemediation;
  /** Whether this rule's verdict for the store can be trusted this run (and if not, why). */
  coverage(view: StoreView, ctx: RuleContext<NoInfer<Shape>>): CheckStatus | CheckVerdict;
  /** The findings on one store the engine has let the rule judge. */
  evaluate(view: StoreView, ctx: RuleContext<NoInfer<Shape>>): RuleFinding[];
}

/**
 * A rule with its id kept as a literal, so that the registry can derive the rule ids, and its options'
 * shape kept, so that its context and the config's `rules.<id>` are typed from its schema.
 */
export function defineRule<const Id extends string, Shape extends OptionsShape = NoOptions>(
  rule: Rule<Id, Shape>,
): Rule<Id, Shape> {
  return rule;
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
export function isPastGrace(created: string | null | undefined, ctx: Grace): boolean {
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
