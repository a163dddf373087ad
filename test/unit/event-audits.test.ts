// Planning events into targeted audits, with a fake table of bucket rows: events for one bucket
// become one job, a storm is cut into batches per store, and what names nothing usable is counted
// as dropped and settled, never silently.
import { describe, expect, it } from 'vitest';
import type { ChangeEvent, EventTarget } from '../../functions/sources/cloudstack-event.js';
import type { QueuedEvent } from '../../functions/watch/event-audits.js';
import { EventAudits } from '../../functions/watch/event-audits.js';
import { throttledLog } from '../../functions/common/throttled-log.js';

const event = (target: EventTarget): ChangeEvent => ({
  source: 'amqp',
  type: 'BUCKET.DELETE',
  status: 'Completed',
  at: new Date(),
  target,
  failed: true,
});

function audits(maxBucketsPerAudit = 500) {
  const dropped: string[] = [];
  const settled: string[] = [];
  const lines: string[] = [];
  const plan = new EventAudits({
    reads: {
      bucketsByIdentity: async (uuids: string[]) =>
        uuids
          .filter((u) => u.startsWith('known'))
          .map((uuid, i) => ({ id: i + 1, uuid, name: `b-${uuid}`, storeId: '1' })),
    },
    audit: async () => {
      throw new Error('not in these tests');
    },
    observer: {
      dropped: (source, reason) => void dropped.push(`${source} ${reason}`),
      audited: () => {},
      verdictAfter: () => {},
    },
    maxBucketsPerAudit,
    concurrentAudits: 1,
    log: (line) => void lines.push(line),
    retry: () => {},
  });
  const queued = (target: EventTarget, label: string): QueuedEvent => ({
    event: event(target),
    settle: () => void settled.push(label),
  });
  return { plan, dropped, settled, queued, lines };
}

describe('planning events into audits', () => {
  it('many events for one bucket become one job; a storm is cut into batches of maxBucketsPerAudit', async () => {
    const { plan, queued } = audits(2);
    const events = [
      ...Array.from({ length: 1000 }, () => queued({ kind: 'bucket', uuid: 'known-a' }, 'a')),
      queued({ kind: 'bucket', uuid: 'known-b' }, 'b'),
      queued({ kind: 'bucket', uuid: 'known-c' }, 'c'),
    ];
    const jobs = await plan.plan(events);
    expect(jobs.map((j) => j.buckets)).toEqual([['b-known-a', 'b-known-b'], ['b-known-c']]);
    expect(jobs[0]?.events).toHaveLength(1001);
  });

  it('an unknown bucket, and a store event naming no usable store, are counted as dropped and settled', async () => {
    const { plan, dropped, settled, queued } = audits();
    const jobs = await plan.plan([
      queued({ kind: 'bucket', uuid: 'ffffffff-0000-4000-8000-000000000000' }, 'unknown'),
      queued({ kind: 'store' }, 'no store'),
    ]);
    expect(jobs).toEqual([]);
    expect(dropped).toEqual(['amqp unknown-bucket', 'amqp malformed']);
    expect(settled).toEqual(['unknown', 'no store']);
  });

  it('a flood of events naming unknown buckets is counted each but said once a minute, not line by line', async () => {
    const { plan, dropped, settled, queued, lines } = audits();
    const flood = Array.from({ length: 5000 }, (_, i) =>
      queued({ kind: 'bucket', uuid: `ffffffff-0000-4000-8000-${String(i).padStart(12, '0')}` }, 'unknown'),
    );
    await plan.plan(flood);
    await plan.plan([queued({ kind: 'store' }, 'no store'), queued({ kind: 'store' }, 'no store')]);
    expect(dropped).toHaveLength(5002);
    expect(settled).toHaveLength(5002);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/no bucket row with that uuid names a store; dropped$/);
    expect(lines[1]).toMatch(/names no store csdrift can look up; dropped$/);
  });
});

describe('throttledLog', () => {
  it('says the first line of a kind, holds back the rest for a minute, then says how many it held', () => {
    const out: string[] = [];
    let now = 0;
    const log = throttledLog(
      (l) => out.push(l),
      60_000,
      () => now,
    );
    log('a', 'first a');
    log('a', 'second a');
    log('b', 'first b');
    now = 59_999;
    log('a', 'third a');
    now = 60_000;
    log('a', 'fourth a');
    expect(out).toEqual(['first a', 'first b', 'fourth a (and 2 more like it since the last such line)']);
  });
});
