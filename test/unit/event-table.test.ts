// The cloud.event poller against a fake table: a first start at the newest event, the cursor moving
// only once rows are handled, a cursor ahead of the table (a database restored from an older backup)
// reset with a warning, and a row with an impossible date counted and skipped, never stuck.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../../functions/cloudstack/event-reads.js';
import {
  EventTablePoller,
  EventTableSource,
  eventCursor,
} from '../../functions/sources/event-table-source.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { recordingContext } from '../support/source-context.js';
import { until } from '../support/until.js';

const row = (id: number, created = new Date('2026-12-04T02:05:13Z')): EventRow => ({
  id,
  uuid: null,
  type: 'BUCKET.DELETE',
  state: 'Completed',
  description: `Error while deleting bucket. Bucket Id: ${id}`,
  resourceId: id,
  resourceType: 'Bucket',
  created,
});

/** cloud.event as a list of rows; `hidden` ids are inserted but not committed yet. */
function table(rows: EventRow[], hidden = new Set<number>()) {
  const seen = () => rows.filter((r) => !hidden.has(r.id));
  return {
    rows,
    hidden,
    latestEventId: async () => Math.max(0, ...seen().map((r) => r.id)),
    eventsSince: async (after: number, limit: number) =>
      seen()
        .filter((r) => r.id > after)
        .slice(0, limit),
    eventsByIds: async (ids: number[]) => seen().filter((r) => ids.includes(r.id)),
    eventIdsBetween: async (after: number, upTo: number) =>
      seen()
        .filter((r) => r.id > after && r.id <= upTo)
        .map((r) => r.id),
    existingEventIds: async (ids: number[]) =>
      seen()
        .filter((r) => ids.includes(r.id))
        .map((r) => r.id),
  };
}

describe('the cloud.event poller', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-events-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const cursor = () => eventCursor(new FolderStorage(dir), 'event-cursor.json');

  it('starts at the newest event, then hands over what comes after and moves past it', async () => {
    const reads = table([row(1), row(2)]);
    const handed: number[] = [];
    const poller = new EventTablePoller({
      reads,
      cursor: cursor(),
      handle: async (rows) => void handed.push(...rows.map((r) => r.id)),
    });
    expect(await poller.pollOnce()).toEqual({ rows: 0, cursor: 2, started: true });
    reads.rows.push(row(3), row(4));
    expect(await poller.pollOnce()).toEqual({ rows: 2, cursor: 4, started: false });
    expect(handed).toEqual([3, 4]);
    expect((await cursor().read())?.lastEventId).toBe(4);
  });

  it('resets a cursor ahead of the table to its end, with a warning, and reads what comes next', async () => {
    await cursor().write({ lastEventId: 90_000 }); // the database was restored from last week's backup
    const reads = table([row(1), row(2)]);
    const resets: string[] = [];
    const handed: number[] = [];
    const poller = new EventTablePoller({
      reads,
      cursor: cursor(),
      handle: async (rows) => void handed.push(...rows.map((r) => r.id)),
      onCursorReset: (from, to) => resets.push(`${from} -> ${to}`),
    });
    await poller.pollOnce();
    reads.rows.push(row(3));
    await poller.pollOnce();
    expect(resets).toEqual(['90000 -> 2']);
    expect(handed).toEqual([3]); // before the fix: nothing, ever, and no word of it
  });

  it('counts and skips a row with a zero date (MariaDB takes one), and the rows after it are audited', async () => {
    await cursor().write({ lastEventId: 0 });
    const reads = table([row(1, new Date('0000-00-00 00:00:00')), row(2)]);
    const source = new EventTableSource({ poller: { reads, cursor: cursor() }, intervalMs: 10 });
    const ctx = recordingContext();
    await source.start(ctx);
    await until('row 2', () => ctx.events.length === 1);
    ctx.events[0]?.settle();
    await until('the cursor past both', async () => (await cursor().read())?.lastEventId === 2);
    await source.stop();
    expect(ctx.dropped_).toEqual([{ reason: 'malformed', why: 'cloud.event 1: an impossible created date' }]);
    expect(ctx.receivedCount).toBe(2);
  });

  it('an event committed after a later one is still handed over; one never committed is given up after the grace time', async () => {
    await cursor().write({ lastEventId: 0 });
    const reads = table([row(1), row(2), row(3)], new Set([1, 2])); // 1 and 2 still in open transactions
    const handed: number[] = [];
    const expired: number[] = [];
    let clock = new Date('2026-12-04T02:00:00Z');
    const poller = new EventTablePoller({
      reads,
      cursor: cursor(),
      handle: async (rows) => void handed.push(...rows.map((r) => r.id)),
      onGapsExpired: (ids) => void expired.push(...ids),
      now: () => clock,
    });
    await poller.pollOnce();
    expect(handed).toEqual([3]);
    expect((await cursor().read())?.gaps?.map((g) => g.id)).toEqual([1, 2]);
    reads.hidden.delete(1); // 1 commits six seconds late
    clock = new Date('2026-12-04T02:00:06Z');
    await poller.pollOnce();
    expect(handed).toEqual([3, 1]); // before: 1 was never audited, and nothing said so
    clock = new Date('2026-12-04T02:11:00Z'); // 2 was rolled back: never appears
    await poller.pollOnce();
    expect(expired).toEqual([2]);
    expect((await cursor().read())?.gaps).toBeUndefined();
  });
});
