// Polling cloud.event: the one source on CloudStack 4.19 without a broker, and the complete record
// (the bus drops what it fails to publish). One poller serves both shells: the watcher hands each row
// to its audits and waits for the verdicts; the AWS poller function puts the rows on the events
// queue. Either way the cursor (the last event id handled) moves only once every row up to it has
// been handled, and is kept in state storage: a poll that stops mid-batch reads that batch again. A
// first start begins at the newest event: the past is the nightly audit's.
import * as z from 'zod';
import type { CloudStackEventReads, EventRow } from '../cloudstack/event-reads.js';
import { Cursor } from '../state/cursor.js';
import type { StateStorage } from '../state/storage.js';
import type { ChangeSource, SourceContext } from './change-source.js';
import { fromEventRow } from './cloudstack-event.js';

const eventCursorSchema = z.looseObject({ lastEventId: z.number().int().nonnegative() });

/** The event table's cursor at `key` of `storage` (the watcher's state folder, or beside the ledger). */
export function eventCursor(storage: StateStorage, key: string): Cursor<z.infer<typeof eventCursorSchema>> {
  return new Cursor(storage, key, eventCursorSchema, 'move it aside to start from the newest event');
}

export interface EventTablePollerOptions {
  reads: Pick<CloudStackEventReads, 'eventsSince' | 'latestEventId'>;
  cursor: Cursor<z.infer<typeof eventCursorSchema>>;
  /** Settles once every row is handled (its verdict written, or queued); a throw leaves the cursor. */
  handle: (rows: EventRow[]) => Promise<void>;
  batchSize?: number;
  /** Asked before each batch: a poll that should pause or stop reads no further. */
  halted?: () => boolean;
  /** Told when the cursor was ahead of the table (a database restored from an older backup) and reset. */
  onCursorReset?: (from: number, to: number) => void;
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

  /** One poll: the rows since the cursor, handed over a batch at a time; the cursor moves after each. */
  async pollOnce(): Promise<PollResult> {
    const { reads, cursor: store, handle } = this.options;
    const halted = this.options.halted ?? (() => false);
    let cursor = (await store.read())?.lastEventId ?? null;
    const newest = await reads.latestEventId();
    if (cursor === null) {
      await store.write({ lastEventId: newest, at: new Date().toISOString() });
      return { rows: 0, cursor: newest, started: true };
    }
    if (cursor > newest) {
      // The table is behind the cursor: CloudStack's database was restored from an older backup (or
      // the cursor belongs to another cloud). Every new event would be below it and skipped for
      // ever: start again at the table's end, and say so.
      this.options.onCursorReset?.(cursor, newest);
      cursor = newest;
      await store.write({ lastEventId: cursor, at: new Date().toISOString() });
    }
    let handled = 0;
    while (!halted()) {
      const rows = await reads.eventsSince(cursor, this.options.batchSize ?? 1000);
      if (!rows.length) break;
      await handle(rows); // a watcher that stops first never settles them: read again next time
      handled += rows.length;
      cursor = Math.max(...rows.map((r) => r.id));
      await store.write({ lastEventId: cursor, at: new Date().toISOString() });
    }
    return { rows: handled, cursor, started: false };
  }
}

export interface EventTableSourceOptions {
  poller: Omit<EventTablePollerOptions, 'handle' | 'halted'>;
  intervalMs: number;
}

/** The watcher's event table source: the poller on a timer, each row's event handed over. */
export class EventTableSource implements ChangeSource {
  readonly name = 'event-table';
  readonly kind = 'event-table' as const;
  private timer: NodeJS.Timeout | undefined;
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
    });
  }

  get description(): string {
    return `cloud.event every ${this.options.intervalMs / 1000} s`;
  }

  async start(ctx: SourceContext): Promise<void> {
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
    void (this.paused ? Promise.resolve() : this.poller.pollOnce())
      .then(() => ctx.health(true, 'reading cloud.event'))
      .catch((err: unknown) =>
        ctx.health(false, `cannot read cloud.event: ${(err as Error).message}; retrying`),
      )
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.options.intervalMs);
      });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Stops polling; a poll in progress ends without moving the cursor past what was not settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
