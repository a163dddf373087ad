import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Debouncer } from '../../functions/watch/debouncer.js';
import type { Pending } from '../../functions/watch/debouncer.js';

describe('Debouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('coalesces events for one key, and sends keys that arrive together as one batch', async () => {
    const batches: Pending<number>[][] = [];
    const d = new Debouncer<number>({ debounceMs: 50, handle: async (due) => void batches.push(due) });
    d.add('a', 1);
    d.add('b', 2);
    d.add('a', 3);
    await vi.advanceTimersByTimeAsync(49);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(batches).toEqual([
      [
        { key: 'a', items: [1, 3] },
        { key: 'b', items: [2] },
      ],
    ]);
  });

  it('while events keep coming, waits for a quiet moment, but never longer than maxWaitMs', async () => {
    const batches: string[][] = [];
    const d = new Debouncer<number>({
      debounceMs: 40,
      maxWaitMs: 200,
      handle: async (due) => void batches.push(due.map((p) => p.key)),
    });
    for (let i = 0; i < 12; i++) {
      d.add(`k${i}`, i);
      await vi.advanceTimersByTimeAsync(25); // never quiet for 40 ms
    }
    await vi.advanceTimersByTimeAsync(100);
    // 300 ms of events: the first batch leaves at 200 ms, the rest once they stop.
    expect(batches.map((b) => b.length)).toEqual([8, 4]);
  });

  it('holds back new batches while maxInFlight are at work, then sends all that waited as one', async () => {
    const batches: string[][] = [];
    let release = () => {};
    const d = new Debouncer<number>({
      debounceMs: 10,
      maxInFlight: 1,
      handle: (due) => {
        batches.push(due.map((p) => p.key));
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    d.add('a', 1);
    await vi.advanceTimersByTimeAsync(20);
    for (const key of ['b', 'c', 'd']) d.add(key, 0);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toEqual([['a']]);
    release();
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('puts failed work back and hands it over again; stop waits for the work in flight', async () => {
    let calls = 0;
    const done: number[] = [];
    const d = new Debouncer<number>({
      debounceMs: 10,
      retryMs: 30,
      handle: async (due) => {
        calls++;
        if (calls === 1) throw new Error('database away');
        await new Promise((r) => setTimeout(r, 50));
        done.push(...due.flatMap((p) => p.items));
      },
    });
    d.add('a', 1);
    await vi.advanceTimersByTimeAsync(45);
    const stopped = d.stop();
    await vi.advanceTimersByTimeAsync(60);
    expect(await stopped).toEqual([]);
    expect(done).toEqual([1]);
  });
});
