// Events for one key (a bucket, a store) within the debounce window become one piece of work. The
// waiting keys leave together, once no event has come for the debounce time (or the oldest has
// waited `maxWaitMs`), and while `maxInFlight` batches are running nothing more is handed over: a
// storm (a script deleting a thousand buckets) leaves in a few large batches, not a thousand. Work that fails goes back in the
// queue, later; nothing is settled until it is done.

export interface Pending<T> {
  key: string;
  items: T[];
}

export interface DebouncerOptions<T> {
  debounceMs: number;
  /** Batches at work at once; more waiting events join the next batch. */
  maxInFlight?: number;
  /**
   * The longest an event waits while others keep coming: default two debounce times, at most 30 s
   * (a steady trickle of store-side changes is then told within two debounces plus the audit).
   */
  maxWaitMs?: number;
  /** Does the work for the due keys; throwing puts them back for a later try. */
  handle: (due: Pending<T>[]) => Promise<void>;
  /** How long failed work waits before it is tried again. */
  retryMs?: number;
  now?: () => number;
  /** Told when work failed and was put back. */
  onRetry?: (err: unknown, due: Pending<T>[]) => void;
}

interface Entry<T> {
  items: T[];
  dueAt: number;
}

export class Debouncer<T> {
  private readonly pending = new Map<string, Entry<T>>();
  private lastAddAt = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: DebouncerOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  /** The first event for a key opens its window; later ones in the window join it. */
  add(key: string, item: T): void {
    if (this.stopped) return;
    this.lastAddAt = this.now();
    const entry = this.pending.get(key);
    if (entry) entry.items.push(item);
    else this.pending.set(key, { items: [item], dueAt: this.now() + this.options.debounceMs });
    this.schedule();
  }

  /** Keys waiting for their window to close. */
  get waiting(): number {
    return this.pending.size;
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Takes nothing new and starts nothing new; resolves once the work in flight is done. */
  async stop(): Promise<Pending<T>[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    const left = [...this.pending].map(([key, e]) => ({ key, items: e.items }));
    this.pending.clear();
    return left;
  }

  private get maxWaitMs(): number {
    return (
      this.options.maxWaitMs ??
      Math.max(this.options.debounceMs, Math.min(2 * this.options.debounceMs, 30_000))
    );
  }

  /** When the waiting keys leave: the quiet after the last event, or the oldest one's longest wait. */
  private dueAt(): number {
    const entries = [...this.pending.values()];
    const ready = entries.filter((e) => e.dueAt <= this.now() + this.options.debounceMs);
    if (!ready.length) return Math.min(...entries.map((e) => e.dueAt)); // only retries wait
    const quiet = this.lastAddAt + this.options.debounceMs;
    const oldest = Math.min(...ready.map((e) => e.dueAt)) - this.options.debounceMs + this.maxWaitMs;
    return Math.max(Math.min(...ready.map((e) => e.dueAt)), Math.min(quiet, oldest));
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    if (this.inFlight.size >= (this.options.maxInFlight ?? Infinity)) return;
    if (!this.pending.size) return;
    const next = this.dueAt();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flush();
      },
      Math.max(0, next - this.now()),
    );
  }

  private flush(): void {
    if (this.stopped) return;
    if (this.inFlight.size >= (this.options.maxInFlight ?? Infinity)) return; // rescheduled when one ends
    const at = this.now();
    if (!this.pending.size) return;
    if (this.dueAt() > at) return this.schedule();
    const due: Pending<T>[] = [];
    for (const [key, entry] of this.pending) {
      if (entry.dueAt > at + this.options.debounceMs) continue; // a retry's wait is kept
      due.push({ key, items: entry.items });
      this.pending.delete(key);
    }
    if (due.length) {
      const work = this.options
        .handle(due)
        .catch((err: unknown) => {
          this.options.onRetry?.(err, due);
          const later = this.now() + (this.options.retryMs ?? 30_000);
          for (const d of due) {
            const entry = this.pending.get(d.key);
            if (entry) entry.items.unshift(...d.items);
            else this.pending.set(d.key, { items: d.items, dueAt: later });
          }
        })
        .finally(() => {
          this.inFlight.delete(work);
          this.schedule();
        });
      this.inFlight.add(work);
    }
    this.schedule();
  }
}
