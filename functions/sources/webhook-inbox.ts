// What the two webhook sources share: a delivery is answered 200 only once it is in the spool (on
// disk, flushed), because neither CloudStack nor MinIO sends it again; its events are handed to the
// watcher and the spool entry is removed once every one of them has its verdict. While the watcher
// is paused, deliveries still go to the spool but wait there; resume (and the next start) hands
// them over. So a backlog of webhooks waits on disk, not in memory.
import type { ChangeEvent, EventSource } from './cloudstack-event.js';
import type { EventSpool } from '../state/spool.js';
import type { ChangeSource, HttpAnswer, SourceContext, WebhookRoute } from './change-source.js';

export class WebhookInbox {
  private ctx: SourceContext | undefined;
  private paused = false;
  /** Spool entries handed over and not yet settled: a replay must not hand them over twice. */
  private readonly inFlight = new Set<string>();
  private replaying: Promise<void> = Promise.resolve();

  constructor(
    private readonly spool: EventSpool,
    /** Which of the spool's entries are this source's. */
    private readonly mine: (id: string) => boolean,
    /** A spooled body back to its events (an empty list: nothing to audit); throws when it is not one. */
    private readonly decode: (body: string) => ChangeEvent[],
    private readonly suffix: string,
  ) {}

  /** Hands over what an earlier watcher stored but never finished. */
  start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    return this.replay();
  }

  /** Stored first (the caller answers 200 after this), then handed over unless paused. */
  async take(body: string, events: ChangeEvent[]): Promise<void> {
    if (!events.length) return;
    const id = await this.spool.save(body, this.suffix);
    if (!this.paused) this.handOver(id, events);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    void this.replay();
  }

  private replay(): Promise<void> {
    this.replaying = this.replaying.then(async () => {
      const ctx = this.ctx;
      if (!ctx) return;
      for (const spooled of await this.spool.pending((m) => ctx.warn(m))) {
        if (this.paused) return;
        if (!this.mine(spooled.id) || this.inFlight.has(spooled.id)) continue;
        let events: ChangeEvent[];
        try {
          events = this.decode(spooled.body);
        } catch (err) {
          ctx.dropped('malformed', `spooled ${spooled.id}: ${(err as Error).message}`);
          events = [];
        }
        if (events.length) this.handOver(spooled.id, events);
        else await this.spool.remove(spooled.id);
      }
    });
    return this.replaying;
  }

  /** Every event of one delivery; its spool entry goes once all of them are settled. */
  private handOver(id: string, events: ChangeEvent[]): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.inFlight.add(id);
    let left = events.length;
    for (const event of events)
      ctx.emit(event, () => {
        left -= 1;
        if (left) return;
        this.inFlight.delete(id);
        void this.spool.remove(id);
      });
  }
}

/** A webhook source: its route, its inbox on the spool, and the ChangeSource life cycle around them. */
export abstract class WebhookSource implements ChangeSource {
  abstract readonly name: string;
  abstract readonly kind: EventSource;
  abstract readonly description: string;
  abstract readonly route: WebhookRoute;
  protected ctx: SourceContext | undefined;
  private stopped = false;

  constructor(protected readonly inbox: WebhookInbox) {}

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    await this.inbox.start(ctx);
    ctx.health(true, 'taking deliveries');
  }

  /** The context to answer a delivery with, or the 503 of a source that is not (or no longer) taking any. */
  protected taking(): SourceContext | HttpAnswer {
    return !this.ctx || this.stopped ? { status: 503, body: 'stopping\n' } : this.ctx;
  }

  pause(): void {
    this.inbox.pause();
  }

  resume(): void {
    this.inbox.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.inbox.pause();
  }
}
