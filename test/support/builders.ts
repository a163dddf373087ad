// Plain values for the pure core's unit tests.
import type { AuditConfig } from '../../functions/core/config.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { EvaluateInput, Evaluation } from '../../functions/core/evaluate.js';
import type { Ledger, LedgerUpdate } from '../../functions/core/ledger.js';
import { updateLedger } from '../../functions/core/ledger.js';
import type { Report } from '../../functions/core/report.js';
import { buildReport } from '../../functions/core/report.js';
import type { CloudStackInventory, DbBucket, StoreRecord, StoreScan } from '../../functions/core/model.js';

export const NOW = new Date('2026-11-24T12:00:00Z');
export const LONG_AGO = '2026-11-01T00:00:00.000Z';

export function aStore(overrides: Partial<StoreRecord> = {}): StoreRecord {
  return {
    id: 1,
    uuid: 'store-uuid-1',
    name: 'minio-1',
    provider: 'MinIO',
    endpoint: 'http://store.example:9000',
    credentials: { accessKey: 'AK', secretKey: 'SK' },
    skip: false,
    usedBytes: null,
    allocatedSize: null,
    totalSize: null,
    ...overrides,
  };
}

let nextId = 1;
export function aBucket(name: string, overrides: Partial<DbBucket> = {}): DbBucket {
  const id = nextId++;
  return {
    id,
    uuid: `bucket-uuid-${id}`,
    name,
    storeId: 1,
    state: 'Created',
    created: LONG_AGO,
    removed: null,
    size: 0,
    quota: 1,
    versioning: false,
    encryption: false,
    objectLock: false,
    policy: 'private',
    accessKeyUser: null,
    owner: { accountUuid: 'acct-uuid', accountName: 'alice', domainUuid: 'dom-uuid', domainPath: '/' },
    projectUuid: null,
    accountRemoved: false,
    ...overrides,
  };
}

export function aScan(storeBuckets: string[], overrides: Partial<StoreScan> = {}): StoreScan {
  return {
    storeId: 1,
    status: 'verified',
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    listingComplete: true,
    buckets: storeBuckets.map((name) => ({ name })),
    absenceChecks: {},
    requests: 1,
    principals: { value: { principals: [] } },
    ...overrides,
  };
}

export function absent(...names: string[]): StoreScan['absenceChecks'] {
  return Object.fromEntries(
    names.map((n) => [n, { result: 'absent' as const, checkedAt: NOW.toISOString() }]),
  );
}

export function anInventory(buckets: DbBucket[], stores: StoreRecord[] = [aStore()]): CloudStackInventory {
  const accounts = new Map(
    buckets.flatMap((b) =>
      b.owner
        ? [
            [
              b.owner.accountUuid,
              { uuid: b.owner.accountUuid, name: b.owner.accountName, removed: b.accountRemoved },
            ],
          ]
        : [],
    ),
  );
  return {
    schema: '4.21',
    database: 'cloud',
    readAt: NOW.toISOString(),
    stores,
    buckets,
    accounts: [...accounts.values()],
  };
}

/** An evaluation input whose DB re-read agrees with the snapshot, unless told otherwise. */
export function anInput(
  buckets: DbBucket[],
  scan: StoreScan,
  more: Partial<EvaluateInput> & { config?: AuditConfig } = {},
): EvaluateInput {
  return {
    inventory: anInventory(buckets),
    scans: [scan],
    recheckedRows: buckets,
    config: parseAuditConfig({}),
    rules: [],
    now: NOW,
    ...more,
  };
}

/** The ledger's next state and the report of one evaluation, as a run at NOW would write them. */
export function reportOf(
  { findings, coverage }: Evaluation,
  { runId = 'run-1', previous = null }: { runId?: string; previous?: Ledger | null } = {},
): { report: Report; lifecycle: LedgerUpdate } {
  const lifecycle = updateLedger({ previous, findings, coverage, runId, now: NOW, confirmRuns: () => 1 });
  const report = buildReport({
    runId,
    trigger: 'cli',
    scope: { stores: [], rules: [], buckets: [] },
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
    cloudstack: { schema: '4.21', database: 'cloud', readAt: NOW.toISOString() },
    coverage,
    lifecycle,
    expiredSuppressions: [],
  });
  return { report, lifecycle };
}
