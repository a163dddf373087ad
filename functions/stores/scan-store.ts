// One store's scan: list everything, then confirm each absence directly. Every failure lowers the
// coverage status; none of them ever makes a bucket look absent.
import pLimit from 'p-limit';
import type { AbsenceCheck, StoreScan, StoreTarget } from '../core/model.js';
import type { StoreAdapter } from './adapter.js';
import { describeError, listingFailureStatus } from './classify.js';
import type { TransportOptions } from './http.js';
import { redact } from './redact.js';
import { adapterFor } from './registry.js';

export interface ScanRequest {
  store: StoreTarget;
  /** DB bucket names the store should have; those the listing lacks are checked one by one. */
  expected: string[];
  options: TransportOptions;
  adapter?: StoreAdapter;
  now?: () => Date;
}

export async function scanStore(request: ScanRequest): Promise<StoreScan> {
  const { store, options } = request;
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
    ...rest,
  });

  if (store.skip) return result('skipped', { error: 'skipped by the config (stores.<id>.skip)' });
  if (adapter.skipReason) return result('skipped', { error: adapter.skipReason });
  if (!store.credentials) {
    return result('auth_failed', {
      error: 'no accesskey/secretkey for this store in object_store_details or the config',
    });
  }

  const secrets = [store.credentials.accessKey, store.credentials.secretKey];
  const connection = adapter.connect(store, options);
  try {
    let buckets;
    try {
      buckets = await connection.listBuckets();
    } catch (err) {
      return result(listingFailureStatus(err), {
        error: redact(`listing failed: ${describeError(err)}`, secrets),
        requests: connection.requestCount(),
      });
    }
    const listed = new Set(buckets.map((b) => b.name));
    const limit = pLimit(options.concurrency);
    const absenceChecks: StoreScan['absenceChecks'] = {};
    await Promise.all(
      [...new Set(request.expected)]
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
    return result(problem ? 'partial' : 'verified', {
      ...(problem ? { error: problem } : {}),
      listingComplete: !problem,
      buckets,
      absenceChecks,
      requests: connection.requestCount(),
    });
  } finally {
    connection.close();
  }
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
