// Polling cloud.event: the one source on CloudStack 4.19 without a broker, and the complete record
// (the bus drops what it fails to publish). One poller serves both shells: the watcher hands each row
// to its audits and waits for the verdicts; the AWS poller function puts the rows on the events
// queue. Either way the cursor (the last event id handled) moves only once every row up to it has
// been handled, and is kept in state storage: a poll that stops mid-batch reads that batch again. A
// first start begins at the newest event: the past is the nightly audit's.
import * as z from 'zod';
import type { CloudStackEventReads, EventRow } from '../cloudstack/event-reads.js';
import { StateCorruptError } from '../core/errors.js';
import { Cursor } from '../state/cursor.js';
import type { StateStorage } from '../state/storage.js';
import type { ChangeSource, SourceContext } from './change-source.js';
import { fromEventRow } from './cloudstack-event.js';

const eventCursorSchema = z.looseObject({
  lastEventId: z.number().int().nonnegative(),
  /**
   * Ids below the cursor that did not exist when it passed them: CloudStack gives an event its id at
   * insert, not at commit, so an event in a transaction still open can appear after a later one.
   * Each is looked up again on every poll until it appears or LATE_COMMIT_MS has passed.
   */
  gaps: z.array(z.strictObject({ id: z.number().int().nonnegative(), since: z.string() })).optional(),
});
type EventCursor = z.infer<typeof eventCursorSchema>;

/** How long an id the cursor passed is waited for: a management server's transaction is shorter. */
export const LATE_COMMIT_MS = 10 * 60_000;
/** Gaps kept at most: a table with that many holes has lost ids to rollbacks, not to slow commits. */
const MAX_GAPS = 10_000;

/** The event table's cursor at `key` of `storage` (the watcher's state folder, or beside the ledger). */
export function eventCursor(storage: StateStorage, key: string): Cursor<EventCursor> {
  return new Cursor(storage, key, eventCursorSchema, 'move it aside to start from the newest event');
}

export interface EventTablePollerOptions {
  reads: Pick<
    CloudStackEventReads,
    'eventsSince' | 'latestEventId' | 'eventsByIds' | 'eventIdsBetween' | 'existingEventIds'
  >;
  cursor: Cursor<EventCursor>;
  /** Settles once every row is handled (its verdict written, or queued); a throw leaves the cursor. */
  handle: (rows: EventRow[]) => Promise<void>;
  batchSize?: number;
  /** Asked before each batch: a poll that should pause or stop reads no further. */
  halted?: () => boolean;
  /** Told when the cursor was ahead of the table (a database restored from an older backup) and reset. */
  onCursorReset?: (from: number, to: number) => void;
  /** Told of ids waited for LATE_COMMIT_MS that never appeared (rolled back): given up. */
  onGapsExpired?: (ids: number[]) => void;
  now?: () => Date;
}

export interface PollResult {
  /** Rows handed over. */
  rows: number;
  /** The last event id handled. */
  cursor: number;
  /** A first start: the cursor was set to the newest event, and nothing was read. */
  started: boolean;
}

export class EventTablePoller {
  constructor(private readonly options: EventTablePollerOptions) {}

  /**
   * One poll: first the ids the cursor passed before they were committed, then the rows since the
   * cursor, handed over a batch at a time; the cursor (with its gaps) moves after each.
   */
  async pollOnce(): Promise<PollResult> {
    const { reads, cursor: store, handle } = this.options;
    const halted = this.options.halted ?? (() => false);
    const now = this.options.now ?? (() => new Date());
    const saved = await store.read();
    const newest = await reads.latestEventId();
    if (saved === null) {
      await store.write({ lastEventId: newest, at: now().toISOString() });
      return { rows: 0, cursor: newest, started: true };
    }
    let cursor = saved.lastEventId;
    let gaps = saved.gaps ?? [];
    const write = () =>
      store.write({ lastEventId: cursor, at: now().toISOString(), ...(gaps.length ? { gaps } : {}) });
    if (cursor > newest) {
      // The table is behind the cursor: CloudStack's database was restored from an older backup (or
      // the cursor belongs to another cloud). Every new event would be below it and skipped for
      // ever: start again at the table's end, and say so.
      this.options.onCursorReset?.(cursor, newest);
      cursor = newest;
      gaps = [];
      await write();
    }
    let handled = 0;
    if (gaps.length && !halted()) {
      const ids = gaps.map((g) => g.id);
      const late = await reads.eventsByIds(ids);
      if (late.length) await handle(late);
      handled += late.length;
      const appeared = new Set(await reads.existingEventIds(ids));
      const expired = gaps.filter(
        (g) => !appeared.has(g.id) && now().getTime() - Date.parse(g.since) > LATE_COMMIT_MS,
      );
      if (expired.length) this.options.onGapsExpired?.(expired.map((g) => g.id));
      gaps = gaps.filter((g) => !appeared.has(g.id) && !expired.includes(g));
      await write();
    }
    while (!halted()) {
      const rows = await reads.eventsSince(cursor, this.options.batchSize ?? 1000);
      if (!rows.length) break;
      await handle(rows); // a watcher that stops first never settles them: read again next time
      handled += rows.length;
      const upTo = Math.max(...rows.map((r) => r.id));
      // Ids passed but not there (of any type): an insert not committed yet, or one rolled back.
      const present = new Set(await reads.eventIdsBetween(cursor, upTo));
      const since = now().toISOString();
      for (let id = cursor + 1; id <= upTo; id++) if (!present.has(id)) gaps.push({ id, since });
      if (gaps.length > MAX_GAPS) {
        this.options.onGapsExpired?.(gaps.slice(0, gaps.length - MAX_GAPS).map((g) => g.id));
        gaps = gaps.slice(-MAX_GAPS);
      }
      cursor = upTo;
      await write();
    }
    return { rows: handled, cursor, started: false };
  }
}

export interface EventTableSourceOptions {
  poller: Omit<EventTablePollerOptions, 'handle' | 'halted'>;
  intervalMs: number;
}

/** How long stop() waits for a poll in progress to move the cursor past what was settled. */
const STOP_WAIT_MS = 5_000;

/** The watcher's event table source: the poller on a timer, each row's event handed over. */
export class EventTableSource implements ChangeSource {
  readonly name = 'event-table';
  readonly kind = 'event-table' as const;
  private timer: NodeJS.Timeout | undefined;
  /** The poll in progress, if any. */
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;
  private paused = false;
  private readonly poller: EventTablePoller;
  private ctx: SourceContext | undefined;

  constructor(private readonly options: EventTableSourceOptions) {
    this.poller = new EventTablePoller({
      ...options.poller,
      handle: (rows) => this.handle(rows),
      halted: () => this.stopped || this.paused,
      onCursorReset: (from, to) =>
        this.ctx?.warn(
          `the cursor (event ${from}) was ahead of cloud.event (newest ${to}): was the database restored from a backup? Reading on from ${to}`,
        ),
      onGapsExpired: (ids) =>
        this.ctx?.warn(
          `${ids.length} event id(s) passed before they were committed never appeared (rolled back?): ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`,
        ),
    });
  }

  get description(): string {
    return `cloud.event every ${this.options.intervalMs / 1000} s`;
  }

  async start(ctx: SourceContext): Promise<void> {
    // A cursor that cannot be read stops the start, naming its file (exit 3), rather than polling
    // on with every try failing; the poll reads it again each time.
    await this.options.poller.cursor.read();
    this.ctx = ctx;
    this.loop();
  }

  /** Each row's event, settled once its verdict is written (at once when it is none). */
  private async handle(rows: EventRow[]): Promise<void> {
    const ctx = this.ctx as SourceContext;
    ctx.received(rows.length);
    await Promise.all(
      rows.map((row) => {
        let event;
        try {
          event = fromEventRow(row);
        } catch (err) {
          ctx.dropped('malformed', `cloud.event ${row.id}: ${(err as Error).message}`);
          return undefined;
        }
        if (!event) return undefined;
        return new Promise<void>((resolve) => ctx.emit(event, resolve));
      }),
    );
  }

  private loop(): void {
    if (this.stopped) return;
    const ctx = this.ctx as SourceContext;
    this.polling = (this.paused ? Promise.resolve() : this.poller.pollOnce())
      .then(() => ctx.health(true, 'reading cloud.event'))
      .catch((err: unknown) =>
        ctx.health(
          false,
          err instanceof StateCorruptError
            ? (err as Error).message // the cursor's fault, not the table's
            : `cannot read cloud.event: ${(err as Error).message}; retrying`,
        ),
      )
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.options.intervalMs);
      })
      .then(() => undefined);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Stops polling. A poll in progress may still move the cursor past the rows whose verdicts were
   * written (the watcher stops its sources after its audits): waited for, so that a restart does
   * not audit them again, but not for ever, since rows never settled (left waiting) hold it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.polling,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
    ]).finally(() => clearTimeout(timer));
  }
}
