// One store's scan: list everything, then confirm each absence directly. Every failure lowers the
// coverage status; none of them ever makes a bucket look absent. The listing goes into partitions by
// name (common/partitions.ts), so a store of any size is read a partition at a time.
import pLimit from 'p-limit';
import { setImmediate } from 'node:timers/promises';
import type {
  StoreBucket,
  AbsenceCheck,
  BucketRead,
  BucketAttribute,
  BucketAttributes,
  Observed,
  StoreAccounts,
  StorePrincipals,
  StoreScan,
  StoreTarget,
} from '../core/model.js';
import { Partitions, partitionOf, partitionsFor } from '../common/partitions.js';
import type {
  AttributeReading,
  InspectTarget,
  ListingIdentity,
  ScanContext,
  StoreAdapter,
  StoreConnection,
} from './adapter.js';
import {
  BucketLookUpError,
  InternalScanError,
  ListingCutShortError,
  describeError,
  listingFailureStatus,
  storeFaultOrThrow,
} from './classify.js';
import type { TransportOptions } from './http.js';
import { redact } from '../common/redact.js';
import { bucketNameProblem } from '../core/bucket-name.js';
import { endpointProblem } from '../core/endpoint.js';
import { visible } from '../core/shell.js';
import { byName } from '../core/model.js';
import { CONTROL, MAX_BUCKET_NAME_BYTES } from '../core/bucket-name.js';
import { adapterFor } from './registry.js';

/** How far a listing may outgrow the partitions its rows were put in before it is split into more. */
const OUTGROWN = 2;

/** A DB bucket whose attributes the rules compare, as the caller knows it (the listing adds the rest). */
export type InspectRequest = Omit<InspectTarget, 'listed'>;

export interface ScanRequest {
  store: StoreTarget;
  /**
   * DB bucket names the store should have; those the listing lacks are checked one by one. For a
   * store judged in partitions, the names of partition p (read when the scan gets to it).
   */
  expected: string[] | ((partition: number, partitions: number) => string[]);
  /**
   * A targeted audit: no listing; each of `expected` is asked about directly, and the scan is
   * complete for exactly those names when every one got a definite answer.
   */
  targeted?: boolean;
  /** Partitions of the store's names (common/partitions.ts): one unless the store is large. */
  partitions?: number;
  /**
   * Only these partitions are listed into, checked and read (a shard of the store judged in its own
   * invocation): the listing is still read whole, and what belongs to other partitions let go.
   */
  keep?: (partition: number) => boolean;
  /**
   * About how many buckets a partition should hold (scan.shards auto): a listing of more than twice
   * what its partitions were sized for (a store of far more buckets than rows) is split into more.
   */
  partitionSize?: number;
  options: TransportOptions;
  /** The attributes the rules in scope compare; none when only existence rules run. */
  attributes?: BucketAttribute[];
  /** The key rules are in scope: read the store's users, keys and groups (StoreConnection.readPrincipals). */
  principals?: boolean;
  /** scanStore only: the DB buckets whose attributes are compared; those the listing shows are read. */
  inspect?: InspectRequest[];
  context?: ScanContext;
  adapter?: StoreAdapter;
  now?: () => Date;
  /** The whole scan's deadline (scan.storeDeadlineSeconds); derived from the store's size when unset. */
  deadlineSeconds?: number;
  /** Told of a fault of csdrift's own (with its stack) before the store is reported skipped for it. */
  onInternalError?: (err: InternalScanError) => void;
}

/**
 * One store's scan, open: listed and its absences confirmed, read a partition at a time. Whatever
 * went wrong (a listing that failed, a deadline passed, a fault of our own) is in `summary()`, and
 * every partition read after it carries it: never a verdict the scan cannot support.
 */
export interface StoreScanSession {
  readonly partitions: number;
  /** The store's scan without its buckets and attributes: status, error, absence checks, principals, requests. */
  summary(): StoreScan;
  /**
   * Partition p: its listed buckets and absence checks, with the attributes of `inspect` read now, or
   * (scan.incremental) kept from `kept` where the bucket's listing identity has not moved since.
   */
  partition(p: number, inspect: InspectRequest[], kept?: KeptReads): Promise<StoreScan>;
  /** Buckets the listing showed, in all partitions. */
  listed(): number;
  close(): void;
}

/** scan.incremental: the last verified reads of a partition's buckets, and how old one may be to be kept. */
export interface KeptReads {
  reads: ReadonlyMap<string, BucketRead>;
  /** A read made before this (scan.fullVerifyDays ago) is made again. */
  since: string;
}

/** The whole store as one scan (a small store, a test): the session's one partition. */
export async function scanStore(request: ScanRequest): Promise<StoreScan> {
  const session = await openStoreScan({ ...request, partitions: 1 });
  try {
    return await session.partition(0, request.inspect ?? []);
  } finally {
    session.close();
  }
}

export async function openStoreScan(request: ScanRequest): Promise<StoreScanSession> {
  const { store } = request;
  const now = request.now ?? (() => new Date());
  const adapter = request.adapter ?? adapterFor(store.provider);
  const count = request.targeted ? 1 : Math.max(1, request.partitions ?? 1);
  const startedAt = now().toISOString();
  const result = (status: StoreScan['status'], rest: Partial<StoreScan> = {}): StoreScan => ({
    storeId: store.id,
    status,
    startedAt,
    finishedAt: now().toISOString(),
    listingComplete: false,
    buckets: [],
    absenceChecks: {},
    requests: 0,
    capabilities: [...adapter.capabilities],
    notApplicable: adapter.notApplicable,
    ...rest,
  });

  if (store.skip)
    return failed(count, result('skipped', { error: 'skipped by the config (stores.<id>.skip)' }));
  if (adapter.skipReason) return failed(count, result('skipped', { error: adapter.skipReason }));
  if (!store.credentials) {
    return failed(
      count,
      result('auth_failed', {
        error: 'no accesskey/secretkey for this store in object_store_details or the config',
      }),
    );
  }

  // Every key this scan holds, the owners' included as they are read: all of them are redacted.
  const secrets = [store.credentials.accessKey, store.credentials.secretKey];
  const ownerKeys = request.context?.ownerKeys;
  if (ownerKeys) {
    request = {
      ...request,
      context: {
        ...request.context,
        ownerKeys: async (account) => {
          const keys = await ownerKeys(account);
          if (keys) secrets.push(keys.accessKey, keys.secretKey);
          return keys;
        },
      },
    };
  }
  const badEndpoint = endpointProblem(store.endpoint);
  if (badEndpoint) {
    return failed(
      count,
      result('unreachable', {
        error: `the store's URL ${badEndpoint} (${store.endpoint}); nothing was sent to it`,
      }),
    );
  }
  const internal = (err: unknown): StoreScan => {
    // Our own bug is never the store's fault: no partial, no unreachable, every check it feeds unverified.
    const fault = err instanceof InternalScanError ? err : new InternalScanError(err);
    request.onInternalError?.(fault);
    return result('skipped', {
      internalError: redact(fault.message, secrets),
      error:
        "csdrift failed while scanning this store (an internal error, not the store's fault); see the log",
    });
  };
  // Connecting can fail on our side only (a URL the SDK will not take): that too is contained here.
  let connection: StoreConnection;
  try {
    connection = adapter.connect(
      store,
      store.ca ? { ...request.options, ca: store.ca } : request.options,
      request.context,
    );
  } catch (err) {
    return failed(count, internal(err));
  }
  const open = connection;
  // The whole scan has a deadline: a store that trickles its answer for ever (never silent long
  // enough for a request timeout) must not keep every other store's report waiting.
  const deadlineMs = storeDeadlineMs(request);
  let stopped: StoreScan | undefined;
  // Who waits for the deadline, each one until its own step is done: a promise that never settles
  // would keep every step's closure (a partition's buckets) alive until the end of the scan.
  const waiting = new Set<() => void>();
  const untilExpired = <T>(step: Promise<T>, instead: () => T): Promise<T> => {
    let stop: () => void = () => {};
    const expiry = new Promise<T>((resolve) => {
      stop = () => resolve(instead());
      waiting.add(stop);
    });
    return Promise.race([step, expiry]).finally(() => waiting.delete(stop));
  };
  const timer = setTimeout(() => {
    stopped = result('partial', {
      error: `the scan did not finish within its deadline (${Math.round(deadlineMs / 1000)} s, scan.storeDeadlineSeconds)`,
      requests: open.requestCount(),
    });
    open.close(); // ends every request in flight
    for (const stop of [...waiting]) stop();
  }, deadlineMs);
  let listing = new Partitions<StoreBucket>(count, 'listing', (b) => b.name, request.keep, true);
  const finish = () => {
    clearTimeout(timer);
    open.close();
    listing.close();
  };
  let outcome: StoreScan | Listed;
  try {
    outcome = await untilExpired<StoreScan | Listed>(
      list(request, open, listing, secrets, result, (moved) => (listing = moved)),
      () => stopped as StoreScan,
    );
  } catch (err) {
    outcome = internal(err);
  }
  if ('storeId' in outcome) {
    finish();
    return failed(count, outcome);
  }
  const listed = outcome;
  let broken: StoreScan | undefined;
  const state = (): StoreScan | undefined => stopped ?? broken;
  const base = (): StoreScan =>
    result(listed.problem ? 'partial' : 'verified', {
      ...(listed.problem ? { error: listed.problem } : {}),
      listingComplete: !listed.problem,
      ...(listed.unusable.count ? { unusableNames: listed.unusable } : {}),
      absenceChecks: listed.absenceChecks,
      requests: open.requestCount(),
      ...(listed.principals ? { principals: listed.principals } : {}),
      ...(listed.accounts ? { accounts: listed.accounts } : {}),
    });
  return {
    partitions: listing.count,
    listed: () => listed.count,
    summary: () => state() ?? base(),
    async partition(p, inspect, kept) {
      const failure = state();
      if (failure) return failure;
      const buckets = listing.read(p);
      const onList = new Map(buckets.map((b) => [b.name, b]));
      const checks = byName<StoreScan['absenceChecks'][string]>();
      for (const [name, check] of Object.entries(listed.absenceChecks))
        if (partitionOf(name, listing.count) === p) checks[name] = check;
      // A listing that cannot be trusted leaves every check unverified: reading attributes would be waste.
      const wanted = (request.attributes ?? []).filter((a) => adapter.capabilities.includes(a));
      const targets = inspect.flatMap((t) => {
        const seen = onList.get(t.name);
        return seen ? [{ ...t, listed: seen }] : [];
      });
      const plan = planReads(targets, wanted, adapter.identity, kept);
      let reading: AttributeReading = { attributes: {} };
      try {
        if (!listed.problem && wanted.length && targets.length)
          reading = await untilExpired(readPlanned(open, plan, wanted, adapter.identity), () => ({
            attributes: {},
          }));
      } catch (err) {
        broken = internal(err);
        return broken;
      }
      if (state()) return state() as StoreScan;
      if (reading.accounts)
        listed.accounts =
          'error' in reading.accounts
            ? { error: redact(reading.accounts.error, secrets) }
            : mergeAccounts(listed.accounts, reading.accounts);
      const attributes = redactErrors(reading.attributes, secrets);
      const identity = adapter.identity;
      const readAt = now().toISOString();
      const keptReads = byName<NonNullable<StoreScan['keptReads']>[string]>();
      for (const { target, read } of plan.kept) {
        const covered = identity?.covers.filter((a) => wanted.includes(a)) ?? [];
        attributes[target.name] = { ...attributes[target.name], ...pick(read.attributes, covered) };
        keptReads[target.name] = { verifiedAt: read.verifiedAt, attributes: covered };
      }
      // What the next run may keep: a fresh read of every covered attribute, none of them an error.
      const freshReads: BucketRead[] = [];
      if (identity && kept && !listed.problem)
        for (const target of plan.fresh) {
          const id = identity.of(target.listed);
          const read = pick(attributes[target.name] ?? {}, identity.covers);
          const covered = Object.values(read);
          if (id && covered.length && covered.every((o) => o && 'value' in o))
            freshReads.push({ name: target.name, identity: id, verifiedAt: readAt, attributes: read });
        }
      return {
        ...base(),
        buckets,
        absenceChecks: checks,
        attributes,
        ...(plan.kept.length ? { keptReads } : {}),
        ...(kept ? { freshReads } : {}),
        ...(reading.accounts ? { accounts: listed.accounts } : {}),
      };
    },
    close: finish,
  };
}

interface ReadPlan {
  /** Read whole. */
  fresh: InspectTarget[];
  /** Their identity unchanged since a read young enough: only what the identity does not cover is read. */
  kept: { target: InspectTarget; read: BucketRead }[];
}

/** Which targets are read in full and which keep their last verified read (scan.incremental). */
function planReads(
  targets: InspectTarget[],
  wanted: BucketAttribute[],
  identity: ListingIdentity | undefined,
  kept: KeptReads | undefined,
): ReadPlan {
  const plan: ReadPlan = { fresh: [], kept: [] };
  const covered = identity?.covers.filter((a) => wanted.includes(a)) ?? [];
  for (const target of targets) {
    const read = kept?.reads.get(target.name);
    const usable =
      identity &&
      kept &&
      read &&
      covered.length &&
      read.verifiedAt >= kept.since &&
      read.identity === identity.of(target.listed) &&
      covered.every((a) => read.attributes[a] && 'value' in (read.attributes[a] as object));
    if (usable) plan.kept.push({ target, read });
    else plan.fresh.push(target);
  }
  return plan;
}

/**
 * The fresh targets read whole; the kept ones only for what their identity does not cover (on RGW:
 * owner, usage and quota, which its listing carries, so no request at all).
 */
async function readPlanned(
  connection: StoreConnection,
  plan: ReadPlan,
  wanted: BucketAttribute[],
  identity: ListingIdentity | undefined,
): Promise<AttributeReading> {
  const uncovered = wanted.filter((a) => !identity?.covers.includes(a));
  const [fresh, rest] = await Promise.all([
    plan.fresh.length ? connection.readAttributes(plan.fresh, wanted) : undefined,
    plan.kept.length && uncovered.length
      ? connection.readAttributes(
          plan.kept.map((k) => k.target),
          uncovered,
        )
      : undefined,
  ]);
  const [a, b] = [fresh?.accounts, rest?.accounts];
  // Either read's error stands; two answers are one store's policies.
  const accounts = !a || !b ? (a ?? b) : 'error' in a ? a : 'error' in b ? b : mergeAccounts(a, b);
  return {
    attributes: { ...rest?.attributes, ...fresh?.attributes },
    ...(accounts ? { accounts } : {}),
  };
}

function pick(attributes: BucketAttributes, which: readonly BucketAttribute[]): BucketAttributes {
  const out: Record<string, unknown> = {};
  for (const a of which) if (attributes[a] !== undefined) out[a] = attributes[a];
  return out as BucketAttributes;
}

/** A session whose scan ended before any partition: each partition is that same outcome. */
export function failed(count: number, scan: StoreScan): StoreScanSession {
  return {
    partitions: count,
    listed: () => 0,
    summary: () => scan,
    partition: async () => scan,
    close: () => {},
  };
}

/** MinIO's policies as read for several partitions: one store's accounts, together. */
function mergeAccounts(
  known: Observed<StoreAccounts> | undefined,
  more: { value: StoreAccounts },
): Observed<StoreAccounts> {
  if (!known || 'error' in known) return more;
  return { value: { policies: { ...known.value.policies, ...more.value.policies } } };
}

/** What the listing phase leaves for the partitions: small, whatever the store's size. */
interface Listed {
  count: number;
  problem?: string;
  unusable: { count: number; examples: string[] };
  absenceChecks: StoreScan['absenceChecks'];
  principals?: Observed<StorePrincipals>;
  accounts?: Observed<StoreAccounts>;
}

/** scan.storeDeadlineSeconds, or 5 minutes plus 50 ms for each bucket CloudStack records there. */
function storeDeadlineMs(request: ScanRequest): number {
  if (request.deadlineSeconds) return request.deadlineSeconds * 1000;
  return 5 * 60_000 + 50 * (request.context?.expectedBuckets ?? 0);
}

/**
 * The listing into its partitions, every name it left out looked up, every expected name it lacks
 * asked about, and the store's users read: the scan up to the attributes, which are read per
 * partition. A listing that fails is the scan's outcome; anything of our own throws.
 */
async function list(
  request: ScanRequest,
  connection: StoreConnection,
  given: Partitions<StoreBucket>,
  secrets: string[],
  result: (status: StoreScan['status'], rest?: Partial<StoreScan>) => StoreScan,
  repartitioned: (listing: Partitions<StoreBucket>) => void,
): Promise<StoreScan | Listed> {
  let listing = given;
  const { options } = request;
  const now = request.now ?? (() => new Date());
  const { expected: wanted } = request;
  const expectedOf = (p: number) =>
    typeof wanted === 'function'
      ? wanted(p, listing.count)
      : wanted.filter((n) => partitionOf(n, listing.count) === p);
  const unusable = { count: 0, examples: [] as string[] };
  // A name no bucket can have (a 20 MiB name, control characters) is reported, never compared,
  // queried or put in a command: one hostile entry must not end or blind the audit.
  const take = (b: StoreBucket) => {
    if (usableName(b.name)) listing.add(b);
    else noteUnusable(unusable, b.name);
  };
  let names =
    connection.listNames && !request.targeted
      ? new Partitions<string>(listing.count, 'names', (n) => n, request.keep)
      : undefined;
  try {
    if (request.targeted) {
      const askable = [...new Set(expectedOf(0))].filter((name) => bucketNameProblem(name) === undefined);
      for (const b of await lookUpEach(connection, askable, options.concurrency)) take(b);
    } else {
      await connection.listBuckets(take);
      await connection.listNames?.((name) => names?.add(name));
    }
    // A store of far more buckets than rows (its unmanaged ones): more partitions, each of the size
    // asked. Only past twice what the partitions were sized for: a listing one bucket larger than its
    // rows (a stray or two) would otherwise have every listed bucket and every row written again.
    const size = request.partitionSize;
    if (size && listing.size > OUTGROWN * listing.count * size) {
      const count = partitionsFor(Math.max(listing.size, names?.size ?? 0), size);
      listing = listing.moveTo(count);
      names = names?.moveTo(count);
      repartitioned(listing);
    }
  } catch (err) {
    names?.close();
    storeFaultOrThrow(err);
    return result(listingFailureStatus(err), {
      error: redact(`${request.targeted ? 'lookup' : 'listing'} failed: ${describeError(err)}`, secrets),
      requests: connection.requestCount(),
    });
  }
  const limit = pLimit(options.concurrency);
  const absenceChecks: StoreScan['absenceChecks'] = byName();
  // The users are read while the absences are confirmed: the loop below is mostly our own CPU (each
  // partition's names and rows read back), during which the store would otherwise wait.
  const reading = request.principals && !request.targeted ? connection.readPrincipals?.() : undefined;
  reading?.catch(() => {}); // awaited below, unless an absence check ends the listing first
  try {
    for (let p = 0; p < listing.count; p++) {
      if (request.keep && !request.keep(p)) continue;
      await setImmediate(); // the users' answers are handled between partitions
      const onList = new Set(listing.readNames(p));
      // A name the store has that no owner's listing showed: an owner the listing did not ask
      // (added), or one whose listing left it out (the listing is cut short).
      const leftOut = names ? [...new Set(names.read(p))].filter((n) => !onList.has(n) && usableName(n)) : [];
      const found = await Promise.all(
        leftOut.map((name) => limit(() => connection.lookUpBucket?.(name) ?? Promise.resolve(null))),
      );
      for (const b of found) {
        if (!b) continue;
        if (b.owner !== undefined && connection.listsOwner?.(b.owner))
          throw new ListingCutShortError(
            `the listing of owner ${b.owner} left out bucket ${b.name}, which the store has: the listing is not trusted`,
          );
        take(b);
        onList.add(b.name);
      }
      // A CloudStack row naming a bucket no store can have (`team/archive`: bucket.name is free text)
      // is judged alone: never sent (the SDK refuses the request, which would end the whole scan), it
      // is absent by construction; every other bucket of the store is audited as usual.
      const expected = [...new Set(expectedOf(p))];
      for (const name of expected.filter((n) => bucketNameProblem(n) !== undefined))
        absenceChecks[name] = {
          result: 'absent',
          detail: `not asked: no store can have a bucket of this name (${bucketNameProblem(name)})`,
          checkedAt: now().toISOString(),
        };
      await Promise.all(
        expected
          .filter((name) => bucketNameProblem(name) === undefined && !onList.has(name))
          .map((name) =>
            limit(async () => {
              const check = await connection.headBucket(name);
              absenceChecks[name] = {
                ...check,
                ...(check.detail ? { detail: redact(check.detail, secrets) } : {}),
                checkedAt: now().toISOString(),
              };
            }),
          ),
      );
    }
  } catch (err) {
    storeFaultOrThrow(err);
    return result(listingFailureStatus(err), {
      error: redact(`listing failed: ${describeError(err)}`, secrets),
      requests: connection.requestCount(),
    });
  } finally {
    names?.close();
  }
  const problem = firstProblem(absenceChecks);
  const principals = await reading;
  return {
    count: listing.size,
    ...(problem ? { problem } : {}),
    unusable,
    absenceChecks,
    ...(principals
      ? { principals: 'error' in principals ? { error: redact(principals.error, secrets) } : principals }
      : {}),
  };
}

function usableName(name: string): boolean {
  return Boolean(name) && Buffer.byteLength(name) <= MAX_BUCKET_NAME_BYTES && !CONTROL.test(name);
}

function noteUnusable(unusable: { count: number; examples: string[] }, name: string): void {
  unusable.count += 1;
  if (unusable.examples.length < 3) {
    const shown = visible(name.slice(0, 60));
    unusable.examples.push(name.length > 60 ? `${shown}… (${Buffer.byteLength(name)} bytes)` : shown);
  }
}

function redactErrors(
  attributes: Record<string, BucketAttributes>,
  secrets: string[],
): Record<string, BucketAttributes> {
  for (const entry of Object.values(attributes)) {
    for (const [key, observed] of Object.entries(entry) as [string, { error?: string }][]) {
      if (observed && typeof observed.error === 'string')
        (entry as Record<string, unknown>)[key] = { error: redact(observed.error, secrets) };
    }
  }
  return attributes;
}

/**
 * A targeted audit's "listing": each named bucket the store has, asked one by one. A name the store
 * says it lacks is left out, to be confirmed by HeadBucket like any absence; a name it would not
 * answer for throws, and the scan is partial.
 */
async function lookUpEach(
  connection: StoreConnection,
  names: string[],
  concurrency: number,
): Promise<StoreBucket[]> {
  const limit = pLimit(concurrency);
  const found = await Promise.all(
    names.map((name) =>
      limit(async (): Promise<StoreBucket | null> => {
        if (connection.lookUpBucket) return connection.lookUpBucket(name);
        const head = await connection.headBucket(name);
        if (head.result === 'present') return { name };
        if (head.result === 'absent') return null;
        throw new BucketLookUpError(name, head.detail ?? 'no answer');
      }),
    ),
  );
  return found.filter((b): b is StoreBucket => b !== null);
}

/** A bucket the listing lacked but HeadBucket found means the listing cannot be trusted either. */
function firstProblem(checks: Record<string, { result: AbsenceCheck; detail?: string }>): string | undefined {
  const entries = Object.entries(checks);
  const present = entries.filter(([, c]) => c.result === 'present');
  const unknown = entries.filter(([, c]) => c.result === 'unknown');
  if (present.length) {
    return `the listing omitted ${present.length} bucket(s) that HeadBucket found (${present[0]?.[0]}): listing incomplete`;
  }
  if (unknown.length) {
    return `could not confirm the absence of ${unknown.length} bucket(s) (${unknown[0]?.[0]}: ${unknown[0]?.[1].detail})`;
  }
  return undefined;
}
