// What the attribute rules share: which buckets are compared, and when a comparison can be trusted.
import type {
  BucketAttribute,
  BucketAttributes,
  CheckVerdict,
  DbBucket,
  Observed,
  StoreRecord,
} from '../model.js';
import { isActive } from '../model.js';
import { isPastGrace } from './rule.js';
import type { Grace, RuleContext, StoreView } from './rule.js';

/**
 * The DB buckets whose attributes are compared with the store's: active, Created, past the grace
 * period (CloudStack applies versioning, policy and quota after the create), and the only active
 * row of that name on the store (a duplicate name is its own finding).
 */
export function inspectionTargets(dbBuckets: readonly DbBucket[], ctx: Grace): readonly DbBucket[] {
  // Asked by every attribute rule, twice (what to read, then what to compare): worked out once per
  // partition's rows and moment, not fourteen times over five thousand rows.
  const known = targetsOf.get(dbBuckets);
  if (known && sameMoment(known, ctx)) return known.targets;
  const active = dbBuckets.filter(isActive);
  const count = new Map<string, number>();
  for (const b of active) count.set(b.name, (count.get(b.name) ?? 0) + 1);
  const targets = Object.freeze(
    active.filter((b) => b.state === 'Created' && count.get(b.name) === 1 && isPastGrace(b.created, ctx)),
  );
  targetsOf.set(dbBuckets, { ...momentOf(ctx), targets });
  return targets;
}

const targetsOf = new WeakMap<readonly DbBucket[], Moment & { targets: readonly DbBucket[] }>();

/** The moment a worked-out answer holds for: the same rows judged later may be past their grace. */
interface Moment {
  at: number;
  graceMinutes: number;
}

function momentOf(ctx: Grace): Moment {
  return { at: ctx.now.getTime(), graceMinutes: ctx.gracePeriodMinutes };
}

function sameMoment(known: Moment, ctx: Grace): boolean {
  return known.at === ctx.now.getTime() && known.graceMinutes === ctx.gracePeriodMinutes;
}

export interface Compared<K extends BucketAttribute> {
  bucket: DbBucket;
  observed: NonNullable<BucketAttributes[K]>;
}

/** The inspected buckets the store has, each with what was read of the attribute (if anything). */
function pairs<K extends BucketAttribute>(view: StoreView, attribute: K, ctx: RuleContext): Compared<K>[] {
  // Asked three times per attribute rule (the engine's coverage, the rule's own, its comparison):
  // paired once per view, attribute and moment, not three times over five thousand buckets.
  let ofView = pairsOf.get(view);
  if (!ofView) pairsOf.set(view, (ofView = new Map()));
  const known = ofView.get(attribute);
  if (known && sameMoment(known, ctx)) return known.pairs as Compared<K>[];
  const read = view.scan.attributes ?? {};
  const paired = inspectionTargets(view.dbBuckets, ctx)
    .filter((b) => view.storeBucketNames.has(b.name))
    .map((bucket) => ({
      bucket,
      observed: (read[bucket.name]?.[attribute] ?? {
        error: 'not read this run',
      }) as NonNullable<BucketAttributes[K]>,
    }));
  ofView.set(attribute, { ...momentOf(ctx), pairs: paired });
  return paired;
}

const pairsOf = new WeakMap<
  StoreView,
  Map<BucketAttribute, Moment & { pairs: readonly Compared<BucketAttribute>[] }>
>();

/** Whether the store's value of this attribute can be compared this run, and if not, why. */
export function attributeCoverage(
  attribute: BucketAttribute,
): (view: StoreView, ctx: RuleContext) => CheckVerdict {
  return (view, ctx) => {
    const scan = view.scan;
    if (scan.status === 'skipped') return { status: 'not_applicable', why: 'store skipped' };
    if (!(scan.capabilities ?? []).includes(attribute)) {
      return {
        status: 'not_applicable',
        why: scan.notApplicable?.[attribute] ?? `${view.store.provider} stores: ${attribute} is not read`,
      };
    }
    if (scan.status !== 'verified')
      return { status: 'unverified', why: `the store could not be read (${scan.status})` };
    const failed = pairs(view, attribute, ctx).filter((p) => 'error' in p.observed);
    if (!failed.length) return { status: 'verified' };
    const first = failed[0] as Compared<BucketAttribute>;
    return {
      status: 'unverified',
      why: `${attribute} of ${failed.length} bucket(s) could not be read (${first.bucket.name}: ${(first.observed as { error: string }).error})`,
    };
  };
}

/** The pairs of one store whose attribute was read, when the rule applies to the store at all. */
export function comparable<K extends BucketAttribute>(
  view: StoreView,
  attribute: K,
  ctx: RuleContext,
): { bucket: DbBucket; value: Extract<NonNullable<BucketAttributes[K]>, { value: unknown }>['value'] }[] {
  if (attributeCoverage(attribute)(view, ctx).status === 'not_applicable') return [];
  return pairs(view, attribute, ctx).flatMap((p) => {
    const observed = p.observed as Observed<unknown>;
    return 'value' in observed ? [{ bucket: p.bucket, value: observed.value as never }] : [];
  });
}

export function storeLabel(store: StoreRecord): string {
  return `${store.name} (${store.provider})`;
}
