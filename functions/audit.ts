// One audit, start to finish: inventory, scans, findings, report. Every shell (CLI, demo, Lambda) runs this.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { DbUrl } from './cloudstack/db-url.js';
import { describeDb } from './cloudstack/db-url.js';
import { loadCloudStackInventory, recheckBucketRows } from './cloudstack/inventory.js';
import type { AuditConfig } from './core/config.js';
import type { FindingCause } from './core/model.js';
import { ConfigError, InvalidInputError, faultText } from './core/errors.js';
import { evaluate } from './core/evaluate.js';
import { recheckCandidates } from './core/recheck.js';
import type {
  CloudStackInventory,
  DbBucket,
  RuleId,
  StoreRecord,
  StoreRef,
  StoreScan,
} from './core/model.js';
import { bucketsByStore } from './core/model.js';
import type { Ledger } from './core/ledger.js';
import { bucketsLastSeenInStore, updateLedger } from './core/ledger.js';
import type { Report, Trigger } from './core/report.js';
import { buildReport } from './core/report.js';
import { isExpired, withLedgerSuppressions } from './core/suppressions.js';
import { rulesInScope } from './core/evaluate.js';
import { lazyOwnerKeys } from './cloudstack/owner-keys.js';
import { readUsageSinceRemoval, usageDbUrl } from './cloudstack/usage-records.js';
import { scanStore } from './stores/scan-store.js';
import { safeEndpoint } from './core/endpoint.js';
import { storeUserNames } from './core/store-naming.js';

export type AuditProgress =
  | { kind: 'inventory'; database: string }
  | { kind: 'inventory-read'; schema: string; stores: number; buckets: number }
  | { kind: 'store-start'; index: number; total: number; store: StoreRecord }
  | { kind: 'store-done'; index: number; total: number; store: StoreRecord; scan: StoreScan }
  /** A fault of csdrift's own while scanning a store: the shell logs it with its stack. */
  | { kind: 'internal-error'; store: StoreRecord; error: Error };

export interface AuditRequest {
  db: DbUrl;
  config: AuditConfig;
  /** --store: ids, uuids or names; every store when empty. */
  stores: string[];
  /** --rule: rule ids; every enabled rule when empty. */
  rules: RuleId[];
  /** --bucket: a targeted audit of these buckets only (their rows, a direct look at each); all when empty. */
  buckets?: string[];
  trigger: Trigger;
  onProgress?: (event: AuditProgress) => void;
  now?: () => Date;
  /** Aborted shortly before a Lambda's timeout: stores not yet scanned become `partial`, and the run wraps up. */
  signal?: AbortSignal;
  /** Set by the fan-out, whose phases run in separate invocations: one run id and start for all. */
  runId?: string;
  startedAt?: Date;
  /** The ledger as the last run left it; none on a first run. */
  previousLedger?: Ledger | null;
  /** Base of the retry backoff; tests shorten it. */
  retryBaseDelayMs?: number;
  /** An event run: by bucket name, the change event that started it (a finding it opens carries it). */
  causes?: Record<string, FindingCause>;
}

const STORES_AT_ONCE = 4;

export interface AuditOutcome {
  report: Report;
  /** The stores audited, as reached (config overrides applied). Holds keys: never serialised. */
  stores: StoreRecord[];
  /** The ledger after this run, to be written after the reports. */
  ledger: Ledger;
  /**
   * The same judgement laid on another ledger: what a run that lost the ledger race writes after
   * reading the ledger again, so that it merges instead of giving up.
   */
  rebase(previous: Ledger | null): { report: Report; ledger: Ledger };
}

/** The inventory read and the scope settled: what every phase of one audit starts from. */
export interface PreparedAudit {
  started: Date;
  runId: string;
  /** The inventory, its stores narrowed to the run's scope, config overrides applied. */
  inventory: CloudStackInventory;
  byStore: Map<number, DbBucket[]>;
}

export async function runAudit(request: AuditRequest): Promise<AuditOutcome> {
  const now = request.now ?? (() => new Date());
  const progress = request.onProgress ?? (() => {});
  const prepared = await prepareAudit(request);
  const scans = await scanStores(prepared, request, now, progress);
  return finishAudit(prepared, scans, request);
}

/** Phase 1: one consistent read of the DB, and the stores in scope. */
export async function prepareAudit(request: AuditRequest): Promise<PreparedAudit> {
  const now = request.now ?? (() => new Date());
  const started = request.startedAt ?? now();
  const progress = request.onProgress ?? (() => {});
  progress({ kind: 'inventory', database: describeDb(request.db) });
  // Only the stores in scope, and only their bucket rows: a one-store scan reads one store's rows.
  const inventory = await loadCloudStackInventory(request.db, {
    scope: (stores) => selectStores(applyStoreOverrides(stores, request.config), request.stores),
    ...(request.buckets?.length ? { buckets: request.buckets } : {}),
  });
  await addUsageSinceRemoval(inventory, request.config.usageDb?.url);
  progress({
    kind: 'inventory-read',
    schema: inventory.schema,
    stores: inventory.stores.length,
    buckets: inventory.buckets.length,
  });
  return {
    started,
    runId: request.runId ?? newRunId(started),
    inventory,
    byStore: bucketsByStore(inventory.buckets),
  };
}

/**
 * With config `usageDb`: what the usage server recorded since the removal of each removed row it still
 * bills. A usage database that cannot be read is said on the findings, never a reason to stop the audit.
 */
async function addUsageSinceRemoval(inventory: CloudStackInventory, url: string | undefined): Promise<void> {
  if (!url) return;
  const billed = inventory.buckets.filter((b) => b.removed && (b.billedBytes ?? 0) > 0);
  try {
    const usage = await readUsageSinceRemoval(usageDbUrl(url), billed);
    for (const b of billed) {
      const recorded = usage.get(b.id);
      if (recorded) b.usageSinceRemoval = recorded;
    }
    inventory.usageDb = { read: true };
  } catch (err) {
    inventory.usageDb = { unreadable: `the usage database could not be read (${faultText(err)})` };
  }
}

/** Phase 2, for one store: list it and confirm the absences its DB rows need. */
export async function scanOneStore(
  prepared: PreparedAudit,
  store: StoreRecord,
  request: AuditRequest,
): Promise<StoreScan> {
  const now = request.now ?? (() => new Date());
  const progress = request.onProgress ?? (() => {});
  const grace = { now: now(), gracePeriodMinutes: request.config.gracePeriodMinutes };
  const rows = prepared.byStore.get(store.id) ?? [];
  const targeted = request.buckets?.length ? [...new Set(request.buckets)] : undefined;
  // What the rules in scope need of this scan: the absences to confirm, the attributes to read and
  // for which rows. Store requests are the main cost: each attribute once, each bucket once.
  const rules = rulesInScope(request.config, request.rules, request.buckets);
  const expected = targeted ?? [
    ...new Set([
      ...rules.flatMap((r) => r.scan?.confirmAbsent?.(rows, grace) ?? []).map((b) => b.name),
      ...bucketsLastSeenInStore(request.previousLedger, store.uuid),
    ]),
  ];
  const options = { ...request.config.scan, retryBaseDelayMs: request.retryBaseDelayMs ?? 200 };
  const attributes = [...new Set(rules.flatMap((r) => r.scan?.attributes ?? []))];
  const inspected = new Map<number, DbBucket>();
  for (const rule of rules)
    if (rule.scan?.attributes?.length)
      for (const b of rule.scan.inspect?.(rows, grace) ?? []) inspected.set(b.id, b);
  const inspect = [...inspected.values()].map((b) => ({
    name: b.name,
    accountUuid: b.owner?.accountUuid ?? null,
    accountName: b.owner?.accountName ?? null,
  }));
  const accounts = [...new Set(inspect.flatMap((t) => (t.accountUuid ? [t.accountUuid] : [])))];
  const context = {
    ownerKeys: lazyOwnerKeys(request.db, accounts, store.provider),
    expectedBuckets: rows.length,
    expectedUsers: expectedUsersOf(rows, store.provider),
  };
  return untilAborted(
    scanStore({
      store,
      expected,
      ...(targeted ? { targeted: true } : {}),
      options,
      now,
      attributes,
      ...(rules.some((r) => r.scan?.principals) ? { principals: true } : {}),
      inspect,
      context,
      deadlineSeconds: request.config.scan.storeDeadlineSeconds,
      onInternalError: (err) => progress({ kind: 'internal-error', store, error: err }),
    }),
    store,
    now,
    request.signal,
  );
}

/**
 * The store users the active rows' owners should have, as CloudStack names them (Ceph: the account
 * uuid; MinIO: `acs-<uuid>` and the older `acs-<name>`): each one the user listing lacks is asked about.
 */
function expectedUsersOf(rows: DbBucket[], provider: string): string[][] {
  const owners = rows
    .filter((b) => b.removed === null && b.owner)
    .map((b) => b.owner as NonNullable<DbBucket['owner']>);
  const byAccount = new Map(owners.map((o) => [o.accountUuid, storeUserNames(provider, o)]));
  return [...byAccount.values()];
}

/** Phase 3: the DB re-read of drift candidates, the findings, the ledger's next state, the report. */
export async function finishAudit(
  prepared: PreparedAudit,
  scans: StoreScan[],
  request: AuditRequest,
): Promise<AuditOutcome> {
  const now = request.now ?? (() => new Date());
  // Suppressions written by clicks live in the ledger; they count like the config's own.
  const config = withLedgerSuppressions(request.config, request.previousLedger ?? null);
  const { inventory, byStore, runId, started } = prepared;
  const candidates = scans.flatMap((scan) => recheckCandidates(byStore.get(scan.storeId) ?? [], scan));
  const recheckedRows = await recheckBucketRows(request.db, candidates);
  const evaluatedAt = now();
  const buckets = request.buckets ?? [];
  const { findings, coverage } = evaluate({
    inventory,
    scans,
    recheckedRows,
    config,
    rules: request.rules,
    buckets,
    now: evaluatedAt,
  });
  const finishedAt = now().toISOString();
  // This run's judgement laid on a ledger: the one it read, or (after losing the race) a newer one.
  const conclude = (previous: Ledger | null): { report: Report; ledger: Ledger } => {
    const lifecycle = updateLedger({
      previous,
      findings,
      coverage,
      runId,
      now: evaluatedAt,
      // The DB was read before any store answered: the run saw nothing later than this.
      observedAt: inventory.readAt,
      buckets,
      rules: request.rules,
      confirmRuns: (rule) => config.rules[rule]?.confirmRuns ?? 1,
      ...(request.causes ? { causes: request.causes } : {}),
    });
    const report = buildReport({
      runId,
      trigger: request.trigger,
      scope: {
        stores: [...request.stores],
        rules: [...request.rules],
        buckets: [...new Set(buckets)],
      },
      startedAt: started.toISOString(),
      finishedAt,
      cloudstack: {
        schema: inventory.schema,
        database: inventory.database,
        readAt: inventory.readAt,
        bucketRowsRead: inventory.buckets.length + recheckedRows.length,
        ...(inventory.rowsWithoutStore ? { rowsWithoutStore: inventory.rowsWithoutStore } : {}),
      },
      coverage,
      lifecycle,
      ...(config.pricing ? { pricing: config.pricing } : {}),
      expiredSuppressions: config.suppressions
        .filter((s) => isExpired(s, evaluatedAt))
        .map(({ rule, store, bucket, reason, owner, expires }) => ({
          rule,
          store,
          bucket,
          reason,
          owner,
          expires,
        })),
    });
    return { report, ledger: lifecycle.ledger };
  };
  return { ...conclude(request.previousLedger ?? null), stores: inventory.stores, rebase: conclude };
}

async function scanStores(
  prepared: PreparedAudit,
  request: AuditRequest,
  now: () => Date,
  progress: (event: AuditProgress) => void,
): Promise<StoreScan[]> {
  const limit = pLimit(STORES_AT_ONCE);
  const { stores } = prepared.inventory;
  return Promise.all(
    stores.map((store, index) =>
      limit(async () => {
        progress({ kind: 'store-start', index, total: stores.length, store });
        const result = await scanOneStore(prepared, store, { ...request, now });
        progress({ kind: 'store-done', index, total: stores.length, store, scan: result });
        return result;
      }),
    ),
  );
}

/** A scan cut short by the signal is `partial`: never evidence of anything. */
async function untilAborted(
  scan: Promise<StoreScan>,
  store: StoreRecord,
  now: () => Date,
  signal?: AbortSignal,
): Promise<StoreScan> {
  if (!signal) return scan;
  const stopped = (): StoreScan => {
    const at = now().toISOString();
    return {
      storeId: store.id,
      status: 'partial',
      error: 'stopped early: the function was about to time out',
      startedAt: at,
      finishedAt: at,
      listingComplete: false,
      buckets: [],
      absenceChecks: {},
      requests: 0,
    };
  };
  if (signal.aborted) return stopped();
  return Promise.race([
    scan,
    new Promise<StoreScan>((resolve) =>
      signal.addEventListener('abort', () => resolve(stopped()), { once: true }),
    ),
  ]);
}

/** Whether a key of the config or the command line (uuid, name or id) names this store. */
export function storeMatches(store: StoreRef, key: string): boolean {
  return key === store.uuid || key === store.name || key === String(store.id);
}

/** Config `stores.<uuid or name>` may replace a store's endpoint or keys, or skip it. */
export function applyStoreOverrides(stores: StoreRecord[], config: AuditConfig): StoreRecord[] {
  for (const [key, override] of Object.entries(config.stores)) {
    const matching = stores.filter((s) => storeMatches(s, key));
    if (!matching.length) {
      throw new ConfigError(`config: stores.${key}: no store with that uuid, name or id in object_store`);
    }
    // Keys given for one store must never reach another that happens to share its name.
    if (matching.length > 1) {
      throw new ConfigError(
        `config: stores.${key}: ${matching.length} stores share that name (ids ${matching.map((s) => s.id).join(', ')}); key the entry by uuid or id`,
      );
    }
    if (override.caBundle !== undefined && !override.caBundle.includes('-----BEGIN CERTIFICATE-----'))
      throw new ConfigError(
        `config: stores.${key}.caBundle: expected PEM certificates (-----BEGIN CERTIFICATE-----); give a file as caBundleFile: PATH`,
      );
    if ((override.accessKey === undefined) !== (override.secretKey === undefined)) {
      throw new ConfigError(`config: stores.${key}: accessKey and secretKey go together`);
    }
  }
  return stores.map((store) => {
    const overrides = Object.entries(config.stores).filter(([key]) => storeMatches(store, key));
    if (overrides.length > 1) {
      throw new ConfigError(
        `config: stores: ${overrides.map(([key]) => key).join(' and ')} all name store ${store.id}; give it one entry`,
      );
    }
    const override = overrides[0]?.[1];
    if (!override) return store;
    return {
      ...store,
      endpoint: override.endpoint ? safeEndpoint(override.endpoint) : store.endpoint,
      credentials:
        override.accessKey && override.secretKey
          ? { accessKey: override.accessKey, secretKey: override.secretKey }
          : store.credentials,
      skip: override.skip ?? store.skip,
      ...(override.caBundle ? { ca: override.caBundle } : {}),
    };
  });
}

function selectStores(stores: StoreRecord[], wanted: string[]): StoreRecord[] {
  if (!wanted.length) return stores;
  for (const key of wanted) {
    if (!stores.some((s) => storeMatches(s, key))) {
      const known = stores.map((s) => s.name).join(', ') || 'none';
      throw new InvalidInputError(`--store ${key}: no such store (known: ${known})`);
    }
  }
  return stores.filter((s) => wanted.some((key) => storeMatches(s, key)));
}

function newRunId(at: Date): string {
  return `${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}
