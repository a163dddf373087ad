// Due change events become targeted audits: the buckets they name are looked up in the database
// (an event carries a uuid or an id, never a name and store), grouped by store, cut into batches,
// and audited with bounded concurrency. Each event is settled (acknowledged, unspooled, its cursor
// let go) only once the verdict of its audit is written; an audit that fails is tried again later.
import pLimit from 'p-limit';
import type { BucketIdentity, CloudStackEventReads } from '../cloudstack/event-reads.js';
import { throttledLog, type ThrottledLog } from '../common/throttled-log.js';
import { InvalidInputError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { FindingCause } from '../core/model.js';
import { visible } from '../core/shell.js';
import type { RunOutcome } from '../run.js';
import type { ChangeEvent, EventTarget } from '../sources/cloudstack-event.js';
import { isFailedDelete } from '../sources/cloudstack-event.js';
import type { Pending } from './debouncer.js';
import type { EventSource } from '../sources/cloudstack-event.js';

export interface QueuedEvent {
  event: ChangeEvent;
  /** Called once the verdict is written (or the event is dropped): acknowledges it at its source. */
  settle: () => void;
}

/** One targeted audit: stores by uuid or id (empty: all), buckets (empty: the whole store). */
export interface AuditJob {
  stores: string[];
  buckets: string[];
  events: QueuedEvent[];
  /** The buckets (by name) whose owner's deleteBucket failed, as the events said: self-healing's candidates. */
  failedDeletes?: string[];
  /** By bucket name, the event that names it (the latest, one that says who preferred): a finding's cause. */
  causes?: Record<string, FindingCause>;
  /** How the log names the stores (their names where the rows gave them; else the ids as given). */
  storeNames?: string[];
}

/** What event audits report as they go: Prometheus in the watcher, Powertools metrics in Lambda. */
export interface EventAuditObserver {
  dropped(source: EventSource, reason: 'unknown-bucket' | 'malformed'): void;
  /** An audit's end: its report's status, or `failed`. */
  audited(status: string): void;
  /** From an event's own time to its written verdict. */
  verdictAfter(seconds: number): void;
}

export interface EventAuditsOptions {
  reads: Pick<CloudStackEventReads, 'bucketsByIdentity'>;
  /** The shell's run: the same engine as `csdrift audit`, trigger `event`. */
  audit: (job: Pick<AuditJob, 'stores' | 'buckets' | 'failedDeletes' | 'causes'>) => Promise<RunOutcome>;
  observer: EventAuditObserver;
  maxBucketsPerAudit: number;
  concurrentAudits: number;
  log: (line: string) => void;
  /** Told of jobs that failed, to queue their events again later. */
  retry: (events: QueuedEvent[]) => void;
  now?: () => Date;
}

/** The debouncer's key for what an event names: one audit per bucket (or store) per window. */
export function targetKey(target: EventTarget): string {
  if (target.kind === 'store') return `store:${target.uuid ?? target.id ?? '?'}`;
  if (target.uuid) return `bucket:uuid:${target.uuid}`;
  if (target.id !== undefined) return `bucket:id:${target.id}`;
  return `bucket:name:${target.store ?? '*'}:${target.name ?? '?'}`;
}

export class EventAudits {
  private readonly limit: ReturnType<typeof pLimit>;
  /** The last audit of each store: one store's event audits run one after another, so each sees what the last told. */
  private readonly lastOfStore = new Map<string, Promise<void>>();
  /** Events that name nothing are anyone's to send: counted each, said once a minute per source. */
  private readonly noisy: ThrottledLog;

  constructor(private readonly options: EventAuditsOptions) {
    this.limit = pLimit(options.concurrentAudits);
    this.noisy = throttledLog(options.log);
  }

  /** The debouncer's handler: never throws; failed jobs go back through `retry`. */
  async handle(due: Pending<QueuedEvent>[]): Promise<void> {
    const jobs = await this.plan(due.flatMap((d) => d.items));
    await Promise.all(jobs.map((job) => this.limit(() => this.inTurn(job))));
  }

  /** Events grouped into jobs: a bucket's store from its row, at most maxBucketsPerAudit per job. */
  async plan(queued: QueuedEvent[]): Promise<AuditJob[]> {
    const buckets = queued.filter((q) => q.event.target.kind === 'bucket');
    const stores = queued.filter((q) => q.event.target.kind === 'store');
    const uuids = new Set<string>();
    const ids = new Set<number>();
    for (const { event } of buckets) {
      const t = event.target as Extract<EventTarget, { kind: 'bucket' }>;
      if (t.uuid) uuids.add(t.uuid);
      else if (t.id !== undefined) ids.add(t.id);
    }
    let rows: BucketIdentity[];
    try {
      rows = await this.options.reads.bucketsByIdentity([...uuids], [...ids]);
    } catch (err) {
      this.options.log(
        `cannot look up the buckets of ${queued.length} event(s): ${(err as Error).message}; retrying later`,
      );
      this.options.retry(queued);
      return [];
    }
    const storeNames = new Map(rows.flatMap((r) => (r.storeName ? [[r.storeId, r.storeName] as const] : [])));
    const byUuid = new Map(rows.flatMap((r) => (r.uuid ? [[r.uuid, r] as const] : [])));
    const byId = new Map(rows.map((r) => [r.id, r] as const));

    // Per store, per bucket name: the events that name it.
    const perStore = new Map<string, Map<string, QueuedEvent[]>>();
    const nameOnly: QueuedEvent[] = [];
    for (const q of buckets) {
      const t = q.event.target as Extract<EventTarget, { kind: 'bucket' }>;
      const row = t.uuid ? byUuid.get(t.uuid) : t.id !== undefined ? byId.get(t.id) : undefined;
      if (!row && t.name && !t.uuid && t.id === undefined) {
        nameOnly.push(q);
        continue;
      }
      if (!row || !/^\d+$/.test(row.storeId)) {
        this.noisy(
          `unknown-bucket:${q.event.source}`,
          visible(
            `${describe(q.event)}: no bucket row with that ${t.uuid ? 'uuid' : 'id'} names a store; dropped`,
          ),
        );
        this.options.observer.dropped(q.event.source, 'unknown-bucket');
        q.settle();
        continue;
      }
      const byName = perStore.get(row.storeId) ?? new Map<string, QueuedEvent[]>();
      pushTo(byName, row.name, q);
      perStore.set(row.storeId, byName);
    }

    const jobs: AuditJob[] = [];
    /** One store's buckets in jobs of at most maxBucketsPerAudit. */
    const inBatches = (stores: string[], byName: Map<string, QueuedEvent[]>) => {
      const names = [...byName.keys()];
      for (let i = 0; i < names.length; i += this.options.maxBucketsPerAudit) {
        const chunk = names.slice(i, i + this.options.maxBucketsPerAudit);
        const failedDeletes = chunk.filter((n) => byName.get(n)?.some((q) => isFailedDelete(q.event)));
        const causes = Object.fromEntries(
          chunk.flatMap((n) => {
            const cause = causeOf(byName.get(n) ?? []);
            return cause ? [[n, cause] as const] : [];
          }),
        );
        jobs.push({
          stores,
          buckets: chunk,
          ...(failedDeletes.length ? { failedDeletes } : {}),
          ...(Object.keys(causes).length ? { causes } : {}),
          events: chunk.flatMap((n) => byName.get(n) ?? []),
          storeNames: stores.map((s) => storeNames.get(s) ?? s),
        });
      }
    };
    for (const [storeId, byName] of perStore) inBatches([storeId], byName);
    // Named by a store's own feed (or by name alone): per store named, every store when none is.
    const named = new Map<string, Map<string, QueuedEvent[]>>();
    for (const q of nameOnly) {
      const t = q.event.target as { name: string; store?: string };
      const byName = named.get(t.store ?? '') ?? new Map<string, QueuedEvent[]>();
      pushTo(byName, t.name, q);
      named.set(t.store ?? '', byName);
    }
    for (const [store, byName] of named) inBatches(store ? [store] : [], byName);
    const storeKeys = new Map<string, QueuedEvent[]>();
    for (const q of stores) {
      const t = q.event.target as Extract<EventTarget, { kind: 'store' }>;
      const key = t.uuid ?? (t.id !== undefined ? String(t.id) : '');
      if (!key) {
        // A store event whose store is named by nothing usable (a malformed uuid): said, counted, let go.
        this.noisy(
          `malformed:${q.event.source}`,
          visible(`${describe(q.event)}: names no store csdrift can look up; dropped`),
        );
        this.options.observer.dropped(q.event.source, 'malformed');
        q.settle();
        continue;
      }
      pushTo(storeKeys, key, q);
    }
    for (const [key, events] of storeKeys) jobs.push({ stores: [key], buckets: [], events });
    return jobs;
  }

  private inTurn(job: AuditJob): Promise<void> {
    const key = job.stores.join(',');
    const turn = (this.lastOfStore.get(key) ?? Promise.resolve()).then(() => this.run(job));
    this.lastOfStore.set(key, turn);
    return turn.finally(() => {
      if (this.lastOfStore.get(key) === turn) this.lastOfStore.delete(key);
    });
  }

  private async run(job: AuditJob): Promise<void> {
    const started = Date.now();
    this.options.log(
      visible(
        `auditing ${job.buckets.length ? `${job.buckets.length} bucket(s)` : 'the whole store'} on ${job.stores.length ? `store ${(job.storeNames ?? job.stores).join(', ')}` : 'every store'} for ${job.events.length} event(s)`,
      ),
    );
    let outcome: RunOutcome;
    try {
      outcome = await this.options.audit({
        stores: job.stores,
        buckets: job.buckets,
        ...(job.failedDeletes ? { failedDeletes: job.failedDeletes } : {}),
        ...(job.causes ? { causes: job.causes } : {}),
      });
    } catch (err) {
      this.options.observer.audited('failed');
      if (err instanceof InvalidInputError) {
        // Naming a store that does not exist (a feed's path names one): asking again will not help.
        this.options.log(visible(`${job.events.length} event(s) dropped: ${err.message}`));
        for (const q of job.events) q.settle();
        return;
      }
      this.options.log(
        `audit of ${job.buckets.length ? `${job.buckets.length} bucket(s)` : 'a whole store'} for ${job.events.length} event(s) failed: ${(err as Error).message}; retrying later`,
      );
      this.options.retry(job.events);
      return;
    }
    const { report } = outcome;
    const now = (this.options.now ?? (() => new Date()))();
    this.options.observer.audited(report.status);
    const took = ((Date.now() - started) / 1000).toFixed(1);
    for (const q of job.events) {
      const seconds = (now.getTime() - q.event.at.getTime()) / 1000;
      // A metric never throws an event away: an impossible time is not observed, the event still settled.
      if (Number.isFinite(seconds)) this.options.observer.verdictAfter(Math.max(0, seconds));
      q.settle();
    }
    for (const line of verdictLines(job, report, took)) this.options.log(line);
    for (const line of healingLines(outcome)) this.options.log(line);
  }
}

/** One line per failed delete self-healing looked at: healed, left to a person and why, or what a dry run would do. */
export function healingLines(outcome: Pick<RunOutcome, 'healing'>): string[] {
  return (outcome.healing ?? []).map((h) => {
    const what = `${h.finding.bucket ?? '-'} on ${h.finding.store.name}`;
    switch (h.outcome) {
      case 'healed':
        return visible(`healed ${what}: the failed delete was completed and verified [${h.finding.id}]`);
      case 'dry-run':
        return visible(
          `self-healing (dry run) would ${h.would.join('; then ')} for ${what} [${h.finding.id}]`,
        );
      case 'left':
        return visible(`not healed ${what}: ${h.why}; a task is sent instead [${h.finding.id}]`);
      case 'failed':
        return visible(`self-healing of ${what} failed: ${h.why}; a task is sent instead [${h.finding.id}]`);
    }
  });
}

/**
 * The cause a finding opened by these events carries: the latest event that says who made the
 * change, else the latest event.
 */
export function causeOf(events: QueuedEvent[]): FindingCause | undefined {
  const latest = (list: QueuedEvent[]) =>
    list.reduce<QueuedEvent | undefined>(
      (a, b) => (!a || b.event.at.getTime() >= a.event.at.getTime() ? b : a),
      undefined,
    );
  const chosen = latest(events.filter((q) => q.event.actor)) ?? latest(events);
  if (!chosen) return undefined;
  const { event } = chosen;
  const at = Number.isNaN(event.at.getTime()) ? undefined : event.at.toISOString();
  if (!at) return undefined;
  return {
    source: event.source,
    at,
    type: event.type,
    ...(event.failed ? { failed: true } : {}),
    ...(event.actor ? { actor: event.actor } : {}),
  };
}

/** Appends in place: many events for one bucket are linear work, never a copy per event. */
function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function describe(event: ChangeEvent): string {
  const t = event.target;
  const what = t.kind === 'store' ? `store ${t.uuid ?? t.id}` : `bucket ${t.uuid ?? t.id ?? t.name}`;
  return `event ${event.type}${event.failed ? ' (failed)' : ''} from ${event.source} for ${what}`;
}

/** One progress line per bucket audited: which events, which bucket, the verdict, how long. */
export function verdictLines(job: AuditJob, report: Report, took: string): string[] {
  const types = [
    ...new Set(job.events.map((q) => `${q.event.type}${q.event.failed ? ' (failed)' : ''}`)),
  ].join(', ');
  const sources = [...new Set(job.events.map((q) => q.event.source))].join(', ');
  const unverified = report.coverage.filter((c) => c.status !== 'verified');
  const targets = job.buckets.length ? job.buckets : [null];
  return targets.slice(0, 20).map((bucket) => {
    const mine = report.findings.filter((f) => bucket === null || f.bucket === bucket);
    const resolved = report.resolved.filter((r) => bucket === null || r.bucket === bucket);
    const verdict = mine.length
      ? `drift: ${mine.map((f) => `${f.rule} (${f.status})`).join(', ')}`
      : unverified.length
        ? `unverified: ${unverified.map((c) => `${c.store.name} ${c.status}`).join(', ')}`
        : resolved.length
          ? `in sync (resolved: ${resolved.map((r) => r.rule).join(', ')})`
          : 'in sync';
    const where = bucket === null ? `store ${job.stores.join(', ')}` : `bucket ${bucket}`;
    // One line each: a bucket's name can neither forge a line nor steer the terminal.
    return visible(`event ${types} (${sources}) -> ${where}: ${verdict} [run ${report.runId}, ${took} s]`);
  });
}
