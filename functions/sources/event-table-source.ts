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
  /** Asked between batches: a poll that should stop ends without moving the cursor further. */
  stopped?: () => boolean;
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
    const stopped = this.options.stopped ?? (() => false);
    let cursor = (await store.read())?.lastEventId ?? null;
    if (cursor === null) {
      cursor = await reads.latestEventId();
      await store.write({ lastEventId: cursor, at: new Date().toISOString() });
      return { rows: 0, cursor, started: true };
    }
    let handled = 0;
    while (!stopped()) {
      const rows = await reads.eventsSince(cursor, this.options.batchSize ?? 1000);
      if (!rows.length) break;
      await handle(rows);
      if (stopped()) break; // handled only as far as the watcher got: read again next time
      handled += rows.length;
      cursor = Math.max(...rows.map((r) => r.id));
      await store.write({ lastEventId: cursor, at: new Date().toISOString() });
    }
    return { rows: handled, cursor, started: false };
  }
}

export interface EventTableSourceOptions {
  poller: Omit<EventTablePollerOptions, 'handle' | 'stopped'>;
  intervalMs: number;
  /** A row for the watcher; the promise settles once its verdict is written (or it is dropped). */
  onRow: (row: EventRow) => Promise<void>;
  onState: (up: boolean, detail: string) => void;
}

/** The watcher's event table source: the poller on a timer, each row handed to the watcher. */
export class EventTableSource {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly poller: EventTablePoller;

  constructor(private readonly options: EventTableSourceOptions) {
    this.poller = new EventTablePoller({
      ...options.poller,
      handle: async (rows) => {
        await Promise.all(rows.map((row) => options.onRow(row)));
      },
      stopped: () => this.stopped,
    });
  }

  start(): void {
    this.loop();
  }

  private loop(): void {
    if (this.stopped) return;
    void this.poller
      .pollOnce()
      .then(() => this.options.onState(true, 'reading cloud.event'))
      .catch((err: unknown) =>
        this.options.onState(false, `cannot read cloud.event: ${(err as Error).message}; retrying`),
      )
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.options.intervalMs);
      });
  }

  /** Stops polling; a poll in progress ends without moving the cursor past what was not settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
