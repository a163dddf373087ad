// Polling cloud.event: the one source on CloudStack 4.19 without a broker, and the complete record
// (the bus drops what it fails to publish). The cursor, the last event id handled, moves only once
// every event up to it has had its verdict written, and is kept in a file: a watcher that stops
// mid-batch reads that batch again when it starts. A first start begins at the newest event.
import * as z from 'zod';
import type { CloudStackEventReads } from '../cloudstack/event-reads.js';
import { writeFileAtomically } from '../common/atomic-file.js';
import type { EventRow } from '../cloudstack/event-reads.js';
import { readCursorFile } from './cursor-file.js';

export interface EventTableSourceOptions {
  reads: Pick<CloudStackEventReads, 'eventsSince' | 'latestEventId'>;
  intervalMs: number;
  cursorFile: string;
  /** A row for the watcher; the promise settles once its verdict is written (or it is dropped). */
  onRow: (row: EventRow) => Promise<void>;
  onState: (up: boolean, detail: string) => void;
  batchSize?: number;
}

export class EventTableSource {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: EventTableSourceOptions) {}

  start(): void {
    this.loop();
  }

  private loop(): void {
    if (this.stopped) return;
    void this.pollOnce()
      .then(() => this.options.onState(true, 'reading cloud.event'))
      .catch((err: unknown) =>
        this.options.onState(false, `cannot read cloud.event: ${(err as Error).message}; retrying`),
      )
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.loop(), this.options.intervalMs);
      });
  }

  /** One poll: the rows since the cursor, each handed over; the cursor moves once all are settled. */
  async pollOnce(): Promise<void> {
    let cursor = await this.readCursor();
    if (cursor === null) {
      cursor = await this.options.reads.latestEventId();
      await this.writeCursor(cursor);
      return;
    }
    for (;;) {
      if (this.stopped) return;
      const rows = await this.options.reads.eventsSince(cursor, this.options.batchSize ?? 1000);
      if (!rows.length) return;
      await Promise.all(rows.map((row) => this.options.onRow(row)));
      if (this.stopped) return; // settled only as far as the watcher got: read again next time
      cursor = Math.max(...rows.map((r) => r.id));
      await this.writeCursor(cursor);
    }
  }

  private async readCursor(): Promise<number | null> {
    const cursor = await readCursorFile(
      this.options.cursorFile,
      z.looseObject({ lastEventId: z.number().int().nonnegative() }),
      'move it aside to start from the newest event',
    );
    return cursor?.lastEventId ?? null;
  }

  private writeCursor(lastEventId: number): Promise<void> {
    return writeFileAtomically(
      this.options.cursorFile,
      `${JSON.stringify({ lastEventId, at: new Date().toISOString() })}\n`,
    );
  }

  /** Stops polling; a poll in progress ends without moving the cursor past what was not settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
