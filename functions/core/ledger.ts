// The finding ledger: what each finding has been across runs. Pure: previous ledger and this run's
// findings and coverage in, next ledger and the statuses to report out.
//
// A finding whose store or check this run could not verify keeps its status and last seen: it is
// neither resolved nor re-opened. Only a run that verified the finding's scope resolves it.
//
// Runs overlap (the nightly audit, targeted audits from events, a person's run): each entry keeps
// when its bucket was last observed, and a run whose observation is older than the entry's leaves
// the entry as it is. A listing taken at 02:01 never resolves what a check at 02:03 confirmed.
import * as z from 'zod';
import { StateCorruptError } from './errors.js';
import type { Finding, FindingAction, FindingCause, RuleId, StoreCoverage, StoreRef } from './model.js';

export type { ActionBy, ActionKind, ActionOutcome, FindingAction } from './model.js';
import { RULES, RULE_IDS } from './rules/index.js';
import { coverageSchema, findingSchema } from './report-schema.js';
import { parseJson } from './validation.js';

export type LedgerStatus = 'pending' | 'new' | 'open' | 'suppressed' | 'resolved';

export interface LedgerEntry {
  rule: RuleId;
  store: Pick<StoreRef, 'uuid' | 'name'>;
  bucket: string | null;
  attribute?: string;
  status: LedgerStatus;
  firstSeen: string;
  lastSeen: string;
  /** When the run that last judged this entry observed its bucket (its DB read, before the store's answer). */
  observedAt?: string;
  /** Consecutive runs that saw it (for rules that want several before reporting). */
  seenRuns: number;
  resolvedAt?: string;
  lastRunId: string;
  /**
   * The run that told people about it, per kind of message (see core/notifications.ts), and when a
   * task was told: an event run's tasks, and its "investigate this store" task, are the storm
   * memory every shell reads (core/notifications.ts stormMemory).
   */
  published?: {
    task?: string;
    resolved?: string;
    /** When the task (or the "investigate this store" task that stood for it) was sent. */
    taskAt?: string;
    /** Told by a run a change event started. */
    byEvent?: boolean;
    /** Told inside one "investigate this store" task, not on its own. */
    inStormTask?: boolean;
  };
  /** The finding as the run that last observed it reported it: what the current view shows. */
  finding?: Finding;
  /** Every action taken on it, by anyone or anything: the audit trail (CONTRACT "Remediation"). */
  actions?: FindingAction[];
  /** The change event that opened it, when an event run did; kept while it stays open. */
  cause?: FindingCause;
}

/**
 * A suppression written by a click (Suppress 30 days, Not drift): kept in the ledger, not the config,
 * and applied by the next run of any kind. `expires` null: until a person removes it.
 */
export interface LedgerSuppression {
  id: string;
  rule: RuleId;
  store: Pick<StoreRef, 'uuid' | 'name'>;
  bucket: string | null;
  reason: string;
  owner: string;
  expires: string | null;
  at: string;
  findingId: string;
}

/** A store as the last run that audited all of it saw it (no bucket or rule scope). */
export interface LedgerStoreState {
  coverage: StoreCoverage;
  runId: string;
  /** When that run observed the store (its DB read). An older observation never replaces it. */
  observedAt: string;
  /** When a run last verified the whole store: complete listing, no check left unverified. */
  lastFullVerification: string | null;
}

export interface Ledger {
  schemaVersion: 1;
  updatedAt: string;
  lastRunId: string | null;
  entries: Record<string, LedgerEntry>;
  /** By store uuid. Ledgers written before 0.10 have none: then no store counts as fully verified. */
  stores?: Record<string, LedgerStoreState>;
  /** Suppressions written by clicks in Slack (csdrift suppressions list|remove). */
  suppressions?: LedgerSuppression[];
}

export interface ResolvedFinding {
  id: string;
  rule: RuleId;
  store: Pick<StoreRef, 'uuid' | 'name'>;
  bucket: string | null;
  firstSeen: string;
  resolvedAt: string;
}

export interface PendingFinding {
  id: string;
  rule: RuleId;
  bucket: string | null;
  store: Pick<StoreRef, 'uuid' | 'name'>;
  seenRuns: number;
  needed: number;
}

export interface LedgerUpdate {
  ledger: Ledger;
  /** This run's findings with status, firstSeen and lastSeen from the ledger; pending ones left out. */
  findings: Finding[];
  resolved: ResolvedFinding[];
  pending: PendingFinding[];
}

export interface LedgerInput {
  previous: Ledger | null;
  findings: Finding[];
  coverage: StoreCoverage[];
  runId: string;
  now: Date;
  /**
   * When this run observed what it judges: its DB read, taken before any store answered. Entries
   * another run observed later are left as they are. Defaults to now.
   */
  observedAt?: string;
  /** The buckets the run was scoped to (--bucket); only their entries may change. Empty: all. */
  buckets?: string[];
  /** The rules the run was scoped to (--rule). Empty: all. Only a run of every rule speaks for a whole store. */
  rules?: readonly string[];
  /** Consecutive runs a rule's finding must be seen before it is reported (default 1). */
  confirmRuns: (rule: RuleId) => number;
  /** How long resolved entries are kept, so that a drift coming back is known as re-opened. */
  keepResolvedDays?: number;
  /** An event run: by bucket name, the change event that started it; a finding it opens carries it. */
  causes?: Record<string, FindingCause>;
}

const actionSchema = z.object({
  at: z.string(),
  by: z.string().regex(/^(slack:[A-Z0-9]+|auto:failed-delete|cli)$/),
  action: z.enum(['fix', 'suppress', 'not-drift']),
  outcome: z.enum(['done', 'refused', 'failed']),
  detail: z.string().optional(),
  dryRun: z.boolean().optional(),
});

const causeSchema = z.object({
  source: z.string(),
  at: z.string(),
  type: z.string(),
  failed: z.boolean().optional(),
  actor: z
    .object({
      user: z.string().optional(),
      accessKey: z.string().optional(),
      account: z.string().optional(),
      remoteAddress: z.string().optional(),
      userAgent: z.string().optional(),
    })
    .optional(),
});

const ledgerSchema = z.object({
  schemaVersion: z.literal(1),
  updatedAt: z.string(),
  lastRunId: z.string().nullable(),
  entries: z.record(
    z.string(),
    z.object({
      rule: z.enum(RULE_IDS),
      store: z.object({ uuid: z.string(), name: z.string() }),
      bucket: z.string().nullable(),
      attribute: z.string().optional(),
      status: z.enum(['pending', 'new', 'open', 'suppressed', 'resolved']),
      firstSeen: z.string(),
      lastSeen: z.string(),
      observedAt: z.string().optional(),
      seenRuns: z.number().int().min(0),
      resolvedAt: z.string().optional(),
      lastRunId: z.string(),
      published: z
        .object({
          task: z.string().optional(),
          resolved: z.string().optional(),
          taskAt: z.string().optional(),
          byEvent: z.boolean().optional(),
          inStormTask: z.boolean().optional(),
        })
        .optional(),
      finding: findingSchema.optional(),
      actions: z.array(actionSchema).optional(),
      cause: causeSchema.optional(),
      /** 0.10's record of csdrift remediate, read as actions by the cli. */
      remediations: z
        .array(
          z.object({
            at: z.string(),
            applied: z.boolean(),
            outcome: z.enum(['planned', 'done', 'failed']),
            detail: z.string().optional(),
          }),
        )
        .optional(),
    }),
  ),
  suppressions: z
    .array(
      z.object({
        id: z.string(),
        rule: z.enum(RULE_IDS),
        store: z.object({ uuid: z.string(), name: z.string() }),
        bucket: z.string().nullable(),
        reason: z.string(),
        owner: z.string(),
        expires: z.string().nullable(),
        at: z.string(),
        findingId: z.string(),
      }),
    )
    .optional(),
  stores: z
    .record(
      z.string(),
      z.object({
        coverage: coverageSchema,
        runId: z.string(),
        observedAt: z.string(),
        lastFullVerification: z.string().nullable(),
      }),
    )
    .optional(),
});

/** A ledger read back from its file. Anything else is an error that names where it is, never a fresh start. */
export function parseLedger(text: string, where: string): Ledger {
  // A problem is phrased "not valid JSON (…)" or "not a csdrift ledger (…)", then what to do.
  const ledger = parseJson(
    ledgerSchema,
    text,
    (problem, cause) =>
      new StateCorruptError(
        `${where} is ${problem.kind === 'not-json' ? problem.detail : `not a csdrift ledger (${problem.detail})`}; move it aside to start a new ledger`,
        { cause },
      ),
  );
  // 0.10 kept `remediations` (csdrift remediate's attempts): those applied become the cli's actions.
  for (const entry of Object.values(ledger.entries)) {
    const { remediations, ...rest } = entry;
    if (!remediations) continue;
    const older: FindingAction[] = remediations
      .filter((r) => r.applied && r.outcome !== 'planned')
      .map((r) => ({
        at: r.at,
        by: 'cli',
        action: 'fix',
        outcome: r.outcome === 'done' ? 'done' : 'failed',
        ...(r.detail ? { detail: r.detail } : {}),
      }));
    Object.assign(entry, rest, { actions: [...older, ...(rest.actions ?? [])] });
    delete entry.remediations;
  }
  // Checked above; the snapshots are kept whole, as the run that wrote them reported them.
  return ledger as Ledger;
}

export function emptyLedger(): Ledger {
  return { schemaVersion: 1, updatedAt: new Date(0).toISOString(), lastRunId: null, entries: {} };
}

export function updateLedger(input: LedgerInput): LedgerUpdate {
  const { now, runId } = input;
  const at = now.toISOString();
  const previous = input.previous?.entries ?? {};
  const observedAt = input.observedAt ?? at;
  // An entry another run observed after this one: this run's view of it is stale.
  const newer = (entry: LedgerEntry | undefined) =>
    entry?.observedAt !== undefined && Date.parse(entry.observedAt) > Date.parse(observedAt);
  const inScope = bucketScope(input.buckets);
  const entries: Record<string, LedgerEntry> = {};
  const findings: Finding[] = [];
  const pending: PendingFinding[] = [];
  const resolved: ResolvedFinding[] = [];

  for (const finding of input.findings) {
    const before = previous[finding.id];
    if (before && newer(before)) {
      entries[finding.id] = before;
      // Still what this run saw, reported as the ledger knows it; gone from the report if resolved since.
      if (before.status === 'new' || before.status === 'open' || before.status === 'suppressed') {
        findings.push({
          ...finding,
          ...(before.cause ? { cause: before.cause } : {}),
          status: before.status === 'suppressed' ? 'suppressed' : 'open',
          firstSeen: before.firstSeen,
          lastSeen: before.lastSeen,
        });
      }
      continue;
    }
    const continuing = before && before.status !== 'resolved';
    const seenRuns = continuing ? before.seenRuns + 1 : 1;
    const needed = Math.max(1, input.confirmRuns(finding.rule));
    const firstSeen = continuing ? before.firstSeen : at;
    let status: LedgerStatus;
    if (finding.status === 'suppressed') status = 'suppressed';
    else if (before?.status === 'new' || before?.status === 'open') status = 'open';
    else if (seenRuns < needed) status = 'pending';
    else status = 'new'; // first reported, back after being resolved, or no longer suppressed
    // A finding reported anew (first time, back after resolved, no longer suppressed) is told again.
    const published = status === 'new' ? undefined : before?.published;
    // Who did it: the event that opened it; a later run (the nightly one) keeps what was known.
    const opened = finding.bucket !== null ? input.causes?.[finding.bucket] : undefined;
    const cause = continuing ? (before.cause ?? undefined) : opened;
    entries[finding.id] = {
      ...identity(finding),
      status,
      firstSeen,
      lastSeen: at,
      observedAt,
      seenRuns,
      lastRunId: runId,
      ...(published ? { published } : {}),
      // The audit trail outlives a resolution: a drift that comes back shows what was done before.
      ...(before?.actions?.length ? { actions: before.actions } : {}),
      ...(cause ? { cause } : {}),
      finding: {
        ...finding,
        ...(cause ? { cause } : {}),
        status: status === 'suppressed' ? 'suppressed' : status === 'open' ? 'open' : 'new',
        firstSeen,
        lastSeen: at,
      },
    };
    if (status === 'pending') {
      pending.push({ id: finding.id, ...identity(finding), seenRuns, needed });
    } else {
      findings.push({
        ...finding,
        ...(cause ? { cause } : {}),
        status: status === 'suppressed' ? 'suppressed' : status,
        firstSeen,
        lastSeen: at,
      });
    }
  }

  const verified = verifiedScope(input.coverage);
  const keepUntil = now.getTime() - (input.keepResolvedDays ?? 90) * 86_400_000;
  for (const [id, entry] of Object.entries(previous)) {
    if (entries[id]) continue;
    if (entry.status === 'resolved' || newer(entry) || !inScope(entry.bucket)) {
      if (entry.status !== 'resolved' || Date.parse(entry.resolvedAt ?? entry.lastSeen) >= keepUntil)
        entries[id] = entry;
      continue;
    }
    if (!verified(entry.store.uuid, entry.rule)) {
      entries[id] = entry; // not looked at, or not looked at fully: nothing is concluded
      continue;
    }
    if (entry.status === 'pending') continue; // the streak is broken before it was ever reported
    const { finding: _gone, ...kept } = entry; // a resolved entry keeps its identity, not its last report
    entries[id] = { ...kept, status: 'resolved', resolvedAt: at, observedAt, seenRuns: 0, lastRunId: runId };
    resolved.push({
      id,
      rule: entry.rule,
      store: entry.store,
      bucket: entry.bucket,
      firstSeen: entry.firstSeen,
      resolvedAt: at,
    });
  }

  const stores = storeStates(input.previous?.stores, input, observedAt);
  return {
    ledger: {
      schemaVersion: 1,
      updatedAt: at,
      lastRunId: runId,
      entries,
      ...(Object.keys(stores).length ? { stores } : {}),
      ...(input.previous?.suppressions?.length ? { suppressions: input.previous.suppressions } : {}),
    },
    findings,
    resolved,
    pending,
  };
}

/**
 * Each store's state after this run: a run of every rule over every bucket of a store replaces what
 * an older observation said of it; a scoped run (buckets, rules) leaves it as it was.
 */
function storeStates(
  previous: Ledger['stores'],
  input: LedgerInput,
  observedAt: string,
): Record<string, LedgerStoreState> {
  const stores: Record<string, LedgerStoreState> = { ...previous };
  if (input.buckets?.length || input.rules?.length) return stores;
  for (const coverage of input.coverage) {
    const before = stores[coverage.store.uuid];
    if (before && Date.parse(before.observedAt) > Date.parse(observedAt)) continue;
    stores[coverage.store.uuid] = {
      coverage,
      runId: input.runId,
      observedAt,
      lastFullVerification: fullyVerified(coverage) ? observedAt : (before?.lastFullVerification ?? null),
    };
  }
  return stores;
}

/** A complete listing and no check left unverified: the store was seen whole. */
export function fullyVerified(coverage: Pick<StoreCoverage, 'status' | 'checks'>): boolean {
  return coverage.status === 'verified' && !Object.values(coverage.checks).includes('unverified');
}

/** A bucket-scoped run speaks only for its buckets: never for a store-level entry or another bucket. */
function bucketScope(buckets: string[] | undefined): (bucket: string | null) => boolean {
  if (!buckets?.length) return () => true;
  const named = new Set(buckets);
  return (bucket) => bucket !== null && named.has(bucket);
}

function identity(f: Finding): Pick<LedgerEntry, 'rule' | 'store' | 'bucket' | 'attribute'> {
  return {
    rule: f.rule,
    store: { uuid: f.store.uuid, name: f.store.name },
    bucket: f.bucket,
    ...(f.attribute !== undefined ? { attribute: f.attribute } : {}),
  };
}

/** Was this rule fully checked on this store in this run? Stores out of scope were not. */
function verifiedScope(coverage: StoreCoverage[]): (storeUuid: string, rule: RuleId) => boolean {
  const byStore = new Map(coverage.map((c) => [c.store.uuid, c]));
  return (storeUuid, rule) => byStore.get(storeUuid)?.checks[rule] === 'verified';
}

/**
 * Buckets the last runs saw in this store without a CloudStack row to expect them. Should one
 * vanish from a listing, the scan confirms the absence directly: a listing that silently leaves a
 * bucket out must never resolve its finding.
 */
export function bucketsLastSeenInStore(ledger: Ledger | null | undefined, storeUuid: string): string[] {
  return Object.values(ledger?.entries ?? {}).flatMap((e) =>
    e.store.uuid === storeUuid && e.bucket && e.status !== 'resolved' && RULES[e.rule].tracksPresence
      ? [e.bucket]
      : [],
  );
}
