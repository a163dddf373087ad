// One audit, start to finish: inventory, scans, findings, report. Every shell (CLI, demo, Lambda) runs this.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { DbUrl } from './cloudstack/db-url.js';
import { describeDb } from './cloudstack/db-url.js';
import { loadCloudStackInventory, recheckBucketRows } from './cloudstack/inventory.js';
import type { AuditConfig } from './core/config.js';
import type { FindingCause } from './core/model.js';
import { ConfigError, InvalidInputError, faultText } from './core/errors.js';
import { evaluate, mergeCoverage, sortFindings } from './core/evaluate.js';
import { recheckCandidates } from './core/recheck.js';
import type {
  CloudStackInventory,
  DbBucket,
  Finding,
  RuleId,
  StoreCoverage,
  StoreRecord,
  StoreRef,
  StoreScan,
} from './core/model.js';
import type { StoreTotals } from './core/rules/rule.js';
import { addTotals, emptyTotals } from './core/store-totals.js';
import { Partitions, partitionOf, partitionsFor } from './common/partitions.js';
import type { Ledger } from './core/ledger.js';
import { bucketsLastSeenInStore, updateLedger } from './core/ledger.js';
import type { Report, Trigger } from './core/report.js';
import { buildReport } from './core/report.js';
import { isExpired, withLedgerSuppressions } from './core/suppressions.js';
import { rulesInScope } from './core/evaluate.js';
import { lazyOwnerKeys } from './cloudstack/owner-keys.js';
import { readUsageSinceRemoval, usageDbUrl } from './cloudstack/usage-records.js';
import type { InspectRequest, KeptReads, StoreScanSession } from './stores/scan-store.js';
import { failed, openStoreScan } from './stores/scan-store.js';
import { safeEndpoint } from './core/endpoint.js';
import { storeUserNames } from './core/store-naming.js';
import type { StoreReads } from './state/bucket-reads.js';
import { openStoreReads, recordReads } from './state/bucket-reads.js';
import type { StateStorage } from './state/storage.js';

export type AuditProgress =
  | { kind: 'inventory'; database: string }
  | { kind: 'inventory-read'; schema: string; stores: number; buckets: number }
  | { kind: 'store-start'; index: number; total: number; store: StoreRecord }
  | {
      kind: 'store-done';
      index: number;
      total: number;
      store: StoreRecord;
      /** The store's scan, without its buckets: `listed` says how many it showed. */
      scan: StoreScan;
      listed: number;
    }
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
  /**
   * Where scan.incremental keeps each bucket's last verified read (state/bucket-reads.ts): the run's
   * state folder or prefix. None (a dry run): every bucket is read in full and nothing is kept.
   */
  state?: StateStorage;
}

const STORES_AT_ONCE = 4;
/**
 * Rows per shard of `scan.shards: auto`: a shard's rows, listing and attributes are a few tens of
 * megabytes while it is judged, and small shards cost little (one DB re-read, a pause in the reads).
 */
export const SHARD_BUCKETS = 5_000;
const DAY_MS = 86_400_000;

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
  /** The inventory, its stores narrowed to the run's scope, config overrides applied; its rows are in `rows`. */
  inventory: CloudStackInventory;
  /** Each store's rows (by store id), in partitions of its names (common/partitions.ts). */
  rows: Map<number, Partitions<DbBucket>>;
  /** Bucket rows read in all. */
  rowCount: number;
  /**
   * Each store's active rows' owners, gathered as the rows streamed in: by store id, then account uuid
   * to account name (what their store users are named by), not the owner records: ten thousand of
   * those would outlive the rows that carried them.
   */
  owners: Map<number, Map<string, string>>;
  /** `rows: 'count'`: each store's rows counted (by store id), none read. */
  counted: ReadonlyMap<number, number>;
  /** The partitions' files, removed. */
  close(): void;
}

/**
 * One shard of a store judged in its own invocation (the Step Functions fan-out): of the store's
 * `partitions`, those p with p % of === index. The store is still listed whole by every shard; what
 * belongs to the other shards is let go as it arrives.
 */
export interface StorePart {
  index: number;
  of: number;
  partitions: number;
}

export const ownsPartition = (part: StorePart | undefined, p: number): boolean =>
  !part || p % part.of === part.index;

/**
 * What a shard of a store concluded before the store is judged whole: its partitions' findings and
 * coverage, the totals the whole-store rules read, and its scan's summary (status, absences,
 * principals, requests). The fan-out's merge adds these up shard by shard (concludeStore).
 */
export interface ShardJudgement {
  storeId: number;
  findings: Finding[];
  coverage: StoreCoverage[];
  totals: StoreTotals;
  summary: StoreScan;
  rows: number;
  rechecked: number;
}

/** What one store's audit concluded: its findings and coverage, all the run needs of it. */
export interface StoreJudgement {
  storeId: number;
  findings: Finding[];
  coverage: StoreCoverage;
  /** Its bucket rows, and those read again for drift candidates. */
  rows: number;
  rechecked: number;
}

export async function runAudit(request: AuditRequest): Promise<AuditOutcome> {
  const now = request.now ?? (() => new Date());
  const progress = request.onProgress ?? (() => {});
  const prepared = await prepareAudit(request);
  try {
    const judged = await judgeStores(prepared, request, now, progress);
    return await finishAudit(prepared, judged, request);
  } finally {
    prepared.close();
  }
}

/**
 * Phase 1: one consistent read of the DB, and the stores in scope; each store's rows go to its
 * partitions as they stream in (`rows: false`: none read, for a phase that needs the stores only).
 */
export async function prepareAudit(
  request: AuditRequest,
  { rows: withRows = true, part }: { rows?: boolean | 'count'; part?: StorePart } = {},
): Promise<PreparedAudit> {
  const now = request.now ?? (() => new Date());
  const started = request.startedAt ?? now();
  const progress = request.onProgress ?? (() => {});
  progress({ kind: 'inventory', database: describeDb(request.db) });
  const rows = new Map<number, Partitions<DbBucket>>();
  const close = () => {
    for (const partitions of rows.values()) partitions.close();
  };
  let rowCount = 0;
  const owners = new Map<number, Map<string, string>>();
  const counted = new Map<number, number>();
  const { shards } = request.config.scan;
  // Only the stores in scope, and only their bucket rows: a one-store scan reads one store's rows.
  let inventory: CloudStackInventory;
  try {
    inventory = await loadCloudStackInventory(request.db, {
      scope: (stores) => selectStores(applyStoreOverrides(stores, request.config), request.stores),
      ...(request.buckets?.length ? { buckets: request.buckets } : {}),
      ...(withRows === 'count'
        ? {
            countsOnly: (counts) => {
              for (const [id, count] of counts) counted.set(id, count);
            },
          }
        : withRows
          ? {
              rows: (counts) => {
                for (const [id, count] of counts)
                  rows.set(
                    id,
                    new Partitions<DbBucket>(
                      part?.partitions ?? (shards === 'auto' ? partitionsFor(count, SHARD_BUCKETS) : shards),
                      'rows',
                      (b) => b.name,
                      part ? (p) => ownsPartition(part, p) : undefined,
                    ),
                  );
                return (row) => {
                  rowCount += 1;
                  rows.get(row.storeId)?.add(row);
                  if (row.removed !== null || !row.owner) return;
                  let mine = owners.get(row.storeId);
                  if (!mine) owners.set(row.storeId, (mine = new Map()));
                  mine.set(row.owner.accountUuid, row.owner.accountName);
                };
              },
            }
          : {}),
    });
  } catch (err) {
    close();
    throw err;
  }
  progress({
    kind: 'inventory-read',
    schema: inventory.schema,
    stores: inventory.stores.length,
    buckets: rowCount,
  });
  return {
    started,
    runId: request.runId ?? newRunId(started),
    inventory,
    rows,
    rowCount,
    owners,
    counted,
    close,
  };
}

/**
 * With config `usageDb`: what the usage server recorded since the removal of each removed row it still
 * bills. A usage database that cannot be read is said on the findings, never a reason to stop the audit.
 */
async function addUsageSinceRemoval(
  rows: DbBucket[],
  url: string | undefined,
): Promise<CloudStackInventory['usageDb']> {
  if (!url) return undefined;
  const billed = rows.filter((b) => b.removed && (b.billedBytes ?? 0) > 0);
  try {
    const usage = await readUsageSinceRemoval(usageDbUrl(url), billed);
    for (const b of billed) {
      const recorded = usage.get(b.id);
      if (recorded) b.usageSinceRemoval = recorded;
    }
    return { read: true };
  } catch (err) {
    return { unreadable: `the usage database could not be read (${faultText(err)})` };
  }
}

/**
 * Phase 2, for one store: list it and confirm the absences its rows need, then a partition of its
 * names at a time, read the attributes the rules compare, read the drift candidates' rows again and
 * judge; then judge it whole on its totals. Whatever its size, one partition is held at a time.
 */
export async function judgeStore(
  prepared: PreparedAudit,
  store: StoreRecord,
  request: AuditRequest,
): Promise<StoreJudgement & { scan: StoreScan; listed: number }> {
  const { scan, listed, ...shard } = await judgeStoreShard(prepared, store, request);
  return { ...(await concludeStore(prepared, store, request, [shard])), scan, listed };
}

/**
 * Phase 2 for one shard of a store (all of it unless `part`): everything but the whole-store rules,
 * which concludeStore judges on the shards' totals.
 */
export async function judgeStoreShard(
  prepared: PreparedAudit,
  store: StoreRecord,
  request: AuditRequest,
  part?: StorePart,
): Promise<ShardJudgement & { scan: StoreScan; listed: number }> {
  const now = request.now ?? (() => new Date());
  const progress = request.onProgress ?? (() => {});
  const grace = { now: now(), gracePeriodMinutes: request.config.gracePeriodMinutes };
  let rows = prepared.rows.get(store.id) ?? new Partitions<DbBucket>(1, 'rows', (b) => b.name);
  // The store's listing may outgrow the partitions its rows were put in: the rows follow it.
  const rowsIn = (partitions: number) => {
    if (rows.count !== partitions) prepared.rows.set(store.id, (rows = rows.moveTo(partitions)));
    return rows;
  };
  const targeted = request.buckets?.length ? [...new Set(request.buckets)] : undefined;
  // What the rules in scope need of this scan: the absences to confirm, the attributes to read and
  // for which rows. Store requests are the main cost: each attribute once, each bucket once.
  const rules = rulesInScope(request.config, request.rules, request.buckets);
  const lastSeen = bucketsLastSeenInStore(request.previousLedger, store.uuid);
  const count = targeted ? 1 : rows.count;
  const expected = (p: number, partitions: number): string[] => {
    if (targeted) return targeted;
    const partitionRows = rowsIn(partitions).read(p);
    return [
      ...rules.flatMap((r) => r.scan?.confirmAbsent?.(partitionRows, grace) ?? []).map((b) => b.name),
      ...lastSeen.filter((name) => partitionOf(name, partitions) === p),
    ];
  };
  const inspectOf = (partitionRows: DbBucket[]): InspectRequest[] => {
    const inspected = new Map<number, DbBucket>();
    for (const rule of rules)
      if (rule.scan?.attributes?.length)
        for (const b of rule.scan.inspect?.(partitionRows, grace) ?? []) inspected.set(b.id, b);
    return [...inspected.values()].map((b) => ({
      name: b.name,
      accountUuid: b.owner?.accountUuid ?? null,
      accountName: b.owner?.accountName ?? null,
    }));
  };
  // The active rows' owners: a few thousand accounts, whatever the number of rows. Their store users
  // are expected; their keys are read if the admin is refused a bucket.
  const owners = prepared.owners.get(store.id) ?? new Map<string, string>();
  const options = { ...request.config.scan, retryBaseDelayMs: request.retryBaseDelayMs ?? 200 };
  const opening = openStoreScan({
    store,
    expected,
    ...(targeted ? { targeted: true } : {}),
    partitions: count,
    ...(request.config.scan.shards === 'auto' && !targeted && !part ? { partitionSize: SHARD_BUCKETS } : {}),
    ...(part && !targeted ? { keep: (p: number) => ownsPartition(part, p) } : {}),
    options,
    now,
    attributes: [...new Set(rules.flatMap((r) => r.scan?.attributes ?? []))],
    // Every shard reads the store's users: the key rules compare each of its rows' keys with them.
    ...(rules.some((r) => r.scan?.principals) ? { principals: true } : {}),
    context: {
      // Both lazy: ten thousand owners are not copied into lists the scan may never read.
      ownerKeys: lazyOwnerKeys(request.db, () => [...owners.keys()], store.provider),
      expectedBuckets: rows.size,
      expectedUsers: {
        *[Symbol.iterator]() {
          for (const [accountUuid, accountName] of owners)
            yield storeUserNames(store.provider, { accountUuid, accountName });
        },
      },
    },
    deadlineSeconds: request.config.scan.storeDeadlineSeconds,
    onInternalError: (err) => progress({ kind: 'internal-error', store, error: err }),
  });
  const session = await untilAborted(opening, count, () => stoppedEarly(store, now), request.signal);
  let reads: StoreReads | undefined;
  try {
    // As many partitions as the scan ended with (a listing far larger than the rows makes more).
    const parts = session.partitions;
    rowsIn(targeted ? rows.count : parts);
    // scan.incremental: each partition's last verified reads, kept while a bucket's identity holds.
    const incremental = request.config.scan.incremental ? request.state : undefined;
    const since = new Date(now().getTime() - request.config.scan.fullVerifyDays * DAY_MS).toISOString();
    if (incremental && !targeted) reads = await openStoreReads(incremental, store.uuid, parts);
    const keptOf = async (p: number): Promise<KeptReads | undefined> =>
      reads ? { reads: await reads.shard(p), since } : incremental ? { reads: new Map(), since } : undefined;
    const judgeWith = async (scanOf: (p: number, rows: DbBucket[]) => Promise<StoreScan>) => {
      const findings: Finding[] = [];
      const coverage: StoreCoverage[] = [];
      const totals = emptyTotals();
      const statuses = new Set<string>();
      let rechecked = 0;
      // The next partition's reads start while this one is judged: the store is kept busy.
      const start = (p: number) => {
        const partitionRows = rows.read(p);
        const scan = scanOf(p, partitionRows);
        scan.catch(() => {}); // awaited in its turn
        return { partitionRows, scan };
      };
      const mine = [...Array(parts).keys()].filter((p) => targeted || ownsPartition(part, p));
      let next = mine.length ? start(mine[0] as number) : undefined;
      for (let i = 0; i < mine.length && next; i++) {
        if (request.signal?.aborted) break;
        const p = mine[i] as number;
        const { partitionRows, scan: reading } = next;
        next = i + 1 < mine.length ? start(mine[i + 1] as number) : undefined;
        const scan = await reading;
        statuses.add(`${scan.status}:${scan.internalError ?? ''}`);
        const usageDb = await addUsageSinceRemoval(partitionRows, request.config.usageDb?.url);
        const reread = await recheckBucketRows(request.db, recheckCandidates(partitionRows, scan));
        rechecked += reread.length;
        if (incremental && scan.status === 'verified' && scan.freshReads) {
          if (reads) await reads.record(p, scan.freshReads, new Set(scan.buckets.map((b) => b.name)));
          // A targeted run (a change event named these buckets): read whole, kept for the next night.
          else await recordReads(incremental, store.uuid, scan.freshReads);
        }
        const judged = evaluate({
          inventory: {
            ...prepared.inventory,
            stores: [store],
            buckets: partitionRows,
            ...(usageDb ? { usageDb } : {}),
          },
          scans: [scan],
          recheckedRows: reread,
          config: withLedgerSuppressions(request.config, request.previousLedger ?? null),
          rules: request.rules,
          buckets: request.buckets ?? [],
          now: now(),
          pass: 'partition',
        });
        findings.push(...judged.findings);
        coverage.push(...judged.coverage);
        addTotals(totals, judged.totals.get(store.id) ?? emptyTotals());
      }
      return { findings, coverage, totals, statuses, rechecked };
    };
    let judged = await judgeWith(async (p, partitionRows) =>
      session.partition(p, inspectOf(partitionRows), await keptOf(p)),
    );
    await reads?.finish();
    let summary = session.summary();
    if (request.signal?.aborted) summary = stoppedEarly(store, now);
    // A deadline or a fault of our own met half-way: no partition keeps what it was judged on.
    if ([...judged.statuses].some((s) => s !== `${summary.status}:${summary.internalError ?? ''}`))
      judged = await judgeWith(async () => summary);
    return {
      storeId: store.id,
      findings: judged.findings,
      coverage: judged.coverage,
      totals: judged.totals,
      summary,
      rows: rows.size,
      rechecked: judged.rechecked,
      scan: summary,
      listed: session.listed(),
    };
  } finally {
    reads?.close();
    session.close();
  }
}

/**
 * A store judged whole from its shards: the whole-store rules on the shards' totals, under the worst
 * of their scans (a store one shard could not list is not verified), and every coverage merged.
 */
export async function concludeStore(
  prepared: PreparedAudit,
  store: StoreRecord,
  request: AuditRequest,
  shards: Iterable<ShardJudgement> | AsyncIterable<ShardJudgement>,
): Promise<StoreJudgement> {
  const totals = emptyTotals();
  const findings: Finding[] = [];
  const coverage: StoreCoverage[] = [];
  let summary: StoreScan | undefined;
  let principals: StoreScan['principals'];
  let requests = 0;
  let rows = 0;
  let rechecked = 0;
  for await (const shard of shards) {
    addTotals(totals, shard.totals);
    findings.push(...shard.findings);
    coverage.push(...shard.coverage);
    requests += shard.summary.requests;
    rows += shard.rows;
    rechecked += shard.rechecked;
    principals ??= shard.summary.principals;
    if (!summary || (summary.status === 'verified' && shard.summary.status !== 'verified'))
      summary = shard.summary;
  }
  if (!summary) throw new InvalidInputError(`store ${store.name}: no shard of it was judged`);
  const whole = evaluate({
    inventory: { ...prepared.inventory, stores: [store], buckets: [] },
    scans: [{ ...summary, requests, ...(principals ? { principals } : {}) }],
    recheckedRows: [],
    config: withLedgerSuppressions(request.config, request.previousLedger ?? null),
    rules: request.rules,
    buckets: request.buckets ?? [],
    now: (request.now ?? (() => new Date()))(),
    pass: 'store',
    totals: new Map<number, StoreTotals>([[store.id, totals]]),
  });
  return {
    storeId: store.id,
    findings: [...findings, ...whole.findings],
    coverage: mergeCoverage(whole.coverage[0] as StoreCoverage, coverage),
    rows,
    rechecked,
  };
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

/** Phase 3: the findings of every store, the ledger's next state, the report. */
export async function finishAudit(
  prepared: PreparedAudit,
  judged: StoreJudgement[],
  request: AuditRequest,
): Promise<AuditOutcome> {
  const now = request.now ?? (() => new Date());
  // Suppressions written by clicks live in the ledger; they count like the config's own.
  const config = withLedgerSuppressions(request.config, request.previousLedger ?? null);
  const { inventory, runId, started } = prepared;
  const evaluatedAt = now();
  const buckets = request.buckets ?? [];
  const byId = new Map(judged.map((j) => [j.storeId, j]));
  const inOrder = inventory.stores.flatMap((s) => {
    const j = byId.get(s.id);
    return j ? [j] : [];
  });
  const findings = sortFindings(inOrder.flatMap((j) => j.findings));
  const coverage = inOrder.map((j) => j.coverage);
  const rowsRead =
    inOrder.reduce((n, j) => n + j.rows + j.rechecked, 0) + (inventory.rowsWithoutStore?.count ?? 0);
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
        bucketRowsRead: rowsRead,
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

async function judgeStores(
  prepared: PreparedAudit,
  request: AuditRequest,
  now: () => Date,
  progress: (event: AuditProgress) => void,
): Promise<StoreJudgement[]> {
  const limit = pLimit(STORES_AT_ONCE);
  const { stores } = prepared.inventory;
  return Promise.all(
    stores.map((store, index) =>
      limit(async () => {
        progress({ kind: 'store-start', index, total: stores.length, store });
        const { scan, listed, ...judgement } = await judgeStore(prepared, store, { ...request, now });
        progress({ kind: 'store-done', index, total: stores.length, store, scan, listed });
        return judgement;
      }),
    ),
  );
}

/**
 * The scan, or, once the signal aborts (shortly before a Lambda's timeout), a session that is
 * `partial` for every partition; the scan left running is closed when it ends.
 */
async function untilAborted(
  opening: Promise<StoreScanSession>,
  count: number,
  stopped: () => StoreScan,
  signal?: AbortSignal,
): Promise<StoreScanSession> {
  if (!signal) return opening;
  if (signal.aborted) {
    void opening.then((s) => s.close());
    return failed(count, stopped());
  }
  return Promise.race([
    opening,
    new Promise<StoreScanSession>((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          void opening.then((s) => s.close());
          resolve(failed(count, stopped()));
        },
        { once: true },
      ),
    ),
  ]);
}

/** A scan cut short by the signal is `partial`: never evidence of anything. */
function stoppedEarly(store: StoreRecord, now: () => Date): StoreScan {
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
}
