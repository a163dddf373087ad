// One store's scan: list everything, then confirm each absence directly. Every failure lowers the
// coverage status; none of them ever makes a bucket look absent.
import pLimit from 'p-limit';
import type {
  StoreBucket,
  AbsenceCheck,
  BucketAttribute,
  BucketAttributes,
  StoreScan,
  StoreTarget,
} from '../core/model.js';
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

export interface ScanRequest {
  store: StoreTarget;
  /** DB bucket names the store should have; those the listing lacks are checked one by one. */
  expected: string[];
  /**
   * A targeted audit: no listing; each of `expected` is asked about directly, and the scan is
   * complete for exactly those names when every one got a definite answer.
   */
  targeted?: boolean;
  options: TransportOptions;
  /** The attributes the rules in scope compare; none when only existence rules run. */
  attributes?: BucketAttribute[];
  /** The key rules are in scope: read the store's users, keys and groups (StoreConnection.readPrincipals). */
  principals?: boolean;
  /** The DB buckets whose attributes are compared; those the listing shows are read. */
  inspect?: InspectTarget[];
  context?: ScanContext;
  adapter?: StoreAdapter;
  now?: () => Date;
  /** The whole scan's deadline (scan.storeDeadlineSeconds); derived from the store's size when unset. */
  deadlineSeconds?: number;
  /** Told of a fault of csdrift's own (with its stack) before the store is reported skipped for it. */
  onInternalError?: (err: InternalScanError) => void;
}

export async function scanStore(request: ScanRequest): Promise<StoreScan> {
  const { store } = request;
  const now = request.now ?? (() => new Date());
  const adapter = request.adapter ?? adapterFor(store.provider);
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

  if (store.skip) return result('skipped', { error: 'skipped by the config (stores.<id>.skip)' });
  if (adapter.skipReason) return result('skipped', { error: adapter.skipReason });
  if (!store.credentials) {
    return result('auth_failed', {
      error: 'no accesskey/secretkey for this store in object_store_details or the config',
    });
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
    return result('unreachable', {
      error: `the store's URL ${badEndpoint} (${store.endpoint}); nothing was sent to it`,
    });
  }
  // Connecting can fail on our side only (a URL the SDK will not take): that too is contained here.
  let connection: StoreConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadlineMs = storeDeadlineMs(request);
  try {
    const open = adapter.connect(
      store,
      store.ca ? { ...request.options, ca: store.ca } : request.options,
      request.context,
    );
    connection = open;
    // The whole scan has a deadline: a store that trickles its answer for ever (never silent long
    // enough for a request timeout) must not keep every other store's report waiting.
    const deadline = new Promise<StoreScan>((resolve) => {
      timer = setTimeout(() => {
        open.close(); // ends every request in flight
        resolve(
          result('partial', {
            error: `the scan did not finish within its deadline (${Math.round(deadlineMs / 1000)} s, scan.storeDeadlineSeconds)`,
            requests: open.requestCount(),
          }),
        );
      }, deadlineMs);
    });
    return await Promise.race([scanConnected(request, open, adapter, secrets, result), deadline]);
  } catch (err) {
    // Our own bug is never the store's fault: no partial, no unreachable, every check it feeds unverified.
    const internal = err instanceof InternalScanError ? err : new InternalScanError(err);
    request.onInternalError?.(internal);
    return result('skipped', {
      internalError: redact(internal.message, secrets),
      error:
        "csdrift failed while scanning this store (an internal error, not the store's fault); see the log",
    });
  } finally {
    clearTimeout(timer);
    connection?.close();
  }
}

/** scan.storeDeadlineSeconds, or 5 minutes plus 50 ms for each bucket CloudStack records there. */
function storeDeadlineMs(request: ScanRequest): number {
  if (request.deadlineSeconds) return request.deadlineSeconds * 1000;
  return 5 * 60_000 + 50 * (request.context?.expectedBuckets ?? 0);
}

async function scanConnected(
  request: ScanRequest,
  connection: StoreConnection,
  adapter: StoreAdapter,
  secrets: string[],
  result: (status: StoreScan['status'], rest?: Partial<StoreScan>) => StoreScan,
): Promise<StoreScan> {
  const { options } = request;
  const now = request.now ?? (() => new Date());
  {
    // A CloudStack row naming a bucket no store can have (`team/archive`: bucket.name is free text)
    // is judged alone: never sent (the SDK refuses the request, which would end the whole scan), it
    // is absent by construction; every other bucket of the store is audited as usual.
    const expected = [...new Set(request.expected)];
    const impossible = expected.filter((name) => bucketNameProblem(name) !== undefined);
    const askable = expected.filter((name) => bucketNameProblem(name) === undefined);
    let buckets;
    try {
      buckets = request.targeted
        ? await lookUpEach(connection, askable, options.concurrency)
        : await connection.listBuckets();
    } catch (err) {
      storeFaultOrThrow(err);
      return result(listingFailureStatus(err), {
        error: redact(`${request.targeted ? 'lookup' : 'listing'} failed: ${describeError(err)}`, secrets),
        requests: connection.requestCount(),
      });
    }
    // A name no bucket can have (a 20 MiB name, control characters) is reported, never compared,
    // queried or put in a command: one hostile entry must not end or blind the audit.
    const { usable, unusable } = usableBuckets(buckets);
    buckets = usable;
    const listed = new Set(buckets.map((b) => b.name));
    const limit = pLimit(options.concurrency);
    const absenceChecks: StoreScan['absenceChecks'] = byName();
    for (const name of impossible)
      absenceChecks[name] = {
        result: 'absent',
        detail: `not asked: no store can have a bucket of this name (${bucketNameProblem(name)})`,
        checkedAt: now().toISOString(),
      };
    await Promise.all(
      askable
        .filter((name) => !listed.has(name))
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
    const problem = firstProblem(absenceChecks);
    // A listing that cannot be trusted leaves every check unverified: reading attributes would be waste.
    const wanted = (request.attributes ?? []).filter((a) => adapter.capabilities.includes(a));
    const targets = (request.inspect ?? []).filter((t) => listed.has(t.name));
    const [reading, principals] = await Promise.all([
      !problem && wanted.length && targets.length
        ? connection.readAttributes(targets, wanted)
        : ({ attributes: {} } as AttributeReading),
      request.principals && !request.targeted ? connection.readPrincipals?.() : undefined,
    ]);
    return result(problem ? 'partial' : 'verified', {
      ...(problem ? { error: problem } : {}),
      listingComplete: !problem,
      buckets,
      ...(unusable.count ? { unusableNames: unusable } : {}),
      absenceChecks,
      requests: connection.requestCount(),
      attributes: redactErrors(reading.attributes, secrets),
      ...(reading.accounts
        ? {
            accounts:
              'error' in reading.accounts
                ? { error: redact(reading.accounts.error, secrets) }
                : reading.accounts,
          }
        : {}),
      ...(principals
        ? { principals: 'error' in principals ? { error: redact(principals.error, secrets) } : principals }
        : {}),
    });
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

function usableBuckets(buckets: StoreBucket[]): {
  usable: StoreBucket[];
  unusable: { count: number; examples: string[] };
} {
  const usable: StoreBucket[] = [];
  const unusable = { count: 0, examples: [] as string[] };
  for (const b of buckets) {
    if (b.name && Buffer.byteLength(b.name) <= MAX_BUCKET_NAME_BYTES && !CONTROL.test(b.name)) usable.push(b);
    else {
      unusable.count += 1;
      if (unusable.examples.length < 3) {
        const shown = visible(b.name.slice(0, 60));
        unusable.examples.push(b.name.length > 60 ? `${shown}… (${Buffer.byteLength(b.name)} bytes)` : shown);
      }
    }
  }
  return { usable, unusable };
}
