// One store's scan: list everything, then confirm each absence directly. Every failure lowers the
// coverage status; none of them ever makes a bucket look absent. The listing goes into partitions by
// name (common/partitions.ts), so a store of any size is read a partition at a time.
import pLimit from 'p-limit';
import type {
  StoreBucket,
  AbsenceCheck,
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
   * About how many buckets a partition should hold (scan.shards auto): a listing that outgrows its
   * partitions (a store of far more buckets than rows) is split into more.
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
  /** Partition p: its listed buckets and absence checks, with the attributes of `inspect` read now. */
  partition(p: number, inspect: InspectRequest[]): Promise<StoreScan>;
  /** Buckets the listing showed, in all partitions. */
  listed(): number;
  close(): void;
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
  let listing = new Partitions<StoreBucket>(count, 'listing', (b) => b.name);
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
    async partition(p, inspect) {
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
      let reading: AttributeReading = { attributes: {} };
      try {
        if (!listed.problem && wanted.length && targets.length)
          reading = await untilExpired(open.readAttributes(targets, wanted), () => ({ attributes: {} }));
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
      return {
        ...base(),
        buckets,
        absenceChecks: checks,
        attributes: redactErrors(reading.attributes, secrets),
        ...(reading.accounts ? { accounts: listed.accounts } : {}),
      };
    },
    close: finish,
  };
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
      ? new Partitions<string>(listing.count, 'names', (n) => n)
      : undefined;
  try {
    if (request.targeted) {
      const askable = [...new Set(expectedOf(0))].filter((name) => bucketNameProblem(name) === undefined);
      for (const b of await lookUpEach(connection, askable, options.concurrency)) take(b);
    } else {
      await connection.listBuckets(take);
      await connection.listNames?.((name) => names?.add(name));
    }
    // A store of far more buckets than rows (its unmanaged ones): more partitions, each of the size asked.
    const size = request.partitionSize;
    if (size && listing.size > listing.count * size) {
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
  try {
    for (let p = 0; p < listing.count; p++) {
      const onList = new Set(listing.read(p).map((b) => b.name));
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
  const principals =
    request.principals && !request.targeted ? await connection.readPrincipals?.() : undefined;
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
