// csdrift watch: CloudStack's change events (its RabbitMQ bus, its webhooks, its event table) and the
// stores' own feeds (RGW ops logs, MinIO's audit webhook and bucket notifications) become targeted
// audits; the full audit can run on a schedule in the same process. Every audit is the
// engine's own run (auditAndPublish): reports, the shared ledger, tasks and resolved messages as a
// full audit tells them. An event is only ever where to look again; the audit is the verdict.
import type { Server } from 'node:http';
import { Cron } from 'croner';
import type { AuditRequest } from '../audit.js';
import { CloudStackEventReads } from '../cloudstack/event-reads.js';
import type { AuditConfig, WatchConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Notifier } from '../notify/notifier.js';
import type { ReportFormat } from '../reports/formats.js';
import type { StateStorage } from '../state/storage.js';
import type { RunOutcome } from '../run.js';
import { auditAndPublish } from '../run.js';
import { AmqpSource } from '../sources/amqp-source.js';
import type { ChangeEvent, EventSource } from '../sources/cloudstack-event.js';
import {
  MalformedEventError,
  fromEventRow,
  parseBusMessage,
  worthAuditing,
} from '../sources/cloudstack-event.js';
import { EventTableSource, eventCursor } from '../sources/event-table-source.js';
import { FolderStorage } from '../state/folder-storage.js';
import { parseMinioAudit } from '../sources/minio-event.js';
import { fromQueued, toQueueMessage } from '../sources/queued-event.js';
import { signatureMatches, tokenMatches } from '../sources/webhook-signature.js';
import { Debouncer } from './debouncer.js';
import type { QueuedEvent } from './event-audits.js';
import { EventAudits, targetKey } from './event-audits.js';
import type { HttpAnswer } from './http-server.js';
import { startHttpServer } from './http-server.js';
import { EventSpool, STORE_EVENTS_SUFFIX } from './spool.js';
import { StoreFeeds } from './store-feeds.js';
import { WatchMetrics } from './watch-metrics.js';
import { visible } from '../core/shell.js';

export interface WatchRequest {
  db: AuditRequest['db'];
  config: AuditConfig;
  storage: StateStorage;
  formats: ReportFormat[];
  notifiers: Notifier[];
  /** Where the spool of webhook deliveries and the event table's cursor are kept. */
  stateDir: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Retry wait of a failed event audit; tests shorten it. */
  retryMs?: number;
  /** How long an ops log file may be missing before its feed counts as down (default 30 s); tests shorten it. */
  feedMissingAfterMs?: number;
}

/** The full-audit schedule, checked at start: a typo in the cron fails loudly, before anything runs. */
export function checkSchedule(watch: WatchConfig): void {
  if (!watch.fullAudit) return;
  try {
    // An unknown zone fails here, not at the first tick.
    new Intl.DateTimeFormat('en', { timeZone: watch.fullAudit.timeZone });
    new Cron(watch.fullAudit.cron, { timezone: watch.fullAudit.timeZone, paused: true }).stop();
  } catch (err) {
    throw new ConfigError(`config: watch.fullAudit: ${(err as Error).message}`, { cause: err });
  }
}

export class Watcher {
  readonly metrics = new WatchMetrics();
  private readonly watch: WatchConfig;
  private readonly reads: CloudStackEventReads;
  private readonly debouncer: Debouncer<QueuedEvent>;
  /** The watcher's own state folder: the spool, the event table's cursor, the ops logs' positions. */
  private readonly state: FolderStorage;
  private readonly spool: EventSpool;
  private readonly feeds: StoreFeeds;
  private readonly sourceState = new Map<string, string>();
  /** When a malformed line was last logged, by source: a garbage flood is counted, not logged line by line. */
  private readonly lastMalformedLog = new Map<string, number>();
  private amqp: AmqpSource | undefined;
  private table: EventTableSource | undefined;
  private server: Server | undefined;
  private cron: Cron | undefined;
  private fullAudit: Promise<void> | undefined;
  private stopping = false;
  private started = false;

  constructor(private readonly request: WatchRequest) {
    const watch = request.config.watch;
    if (!watch)
      throw new ConfigError('config: watch: required for csdrift watch (at least one event source)');
    this.watch = watch;
    this.reads = new CloudStackEventReads(request.db);
    this.state = new FolderStorage(request.stateDir);
    this.spool = new EventSpool(this.state);
    this.feeds = new StoreFeeds(
      watch,
      {
        accept: (event, settle) => {
          this.metrics.received(event.source);
          this.accept(event, settle);
        },
        malformed: (source, why) => this.dropped(source, 'malformed', new MalformedEventError(why)),
        state: (feed, up, detail) => this.sourceChanged(feed, up, detail),
      },
      this.state,
      request.feedMissingAfterMs,
    );
    const audits = new EventAudits({
      reads: this.reads,
      audit: (job) => this.run({ ...job, trigger: 'event' }),
      observer: this.metrics,
      maxBucketsPerAudit: watch.maxBucketsPerAudit,
      concurrentAudits: watch.concurrentAudits,
      log: request.log,
      retry: (events) =>
        setTimeout(
          () => events.forEach((q) => this.debouncer.add(targetKey(q.event.target), q)),
          request.retryMs ?? 30_000,
        ).unref(),
    });
    this.debouncer = new Debouncer<QueuedEvent>({
      debounceMs: watch.debounceSeconds * 1000,
      maxInFlight: watch.concurrentAudits,
      handle: (due) => audits.handle(due),
    });
  }

  /** The listener first (a port in use fails the start), then what earlier runs left, then the sources. */
  async start(): Promise<string> {
    const { log } = this.request;
    this.server = await startHttpServer(this.watch.listen, {
      health: () => this.health(),
      metrics: async () => ({
        status: 200,
        body: await this.metrics.text(),
        contentType: this.metrics.registry.contentType,
      }),
      cloudstackWebhook: (body, headers) => this.webhook(body, headers['x-cs-signature']),
      minioWebhook: (body, headers, store) => this.minioWebhook(body, headers.authorization, store),
    });
    for (const spooled of await this.spool.pending()) {
      if (spooled.id.endsWith(STORE_EVENTS_SUFFIX)) {
        this.acceptSpooledEvents(spooled);
        continue;
      }
      const event = this.parse(spooled.body, 'webhook');
      if (event) this.accept(event, () => void this.spool.remove(spooled.id));
      else await this.spool.remove(spooled.id);
    }
    const cs = this.watch.cloudstack;
    if (cs?.amqp) {
      this.amqp = new AmqpSource({
        url: cs.amqp.url,
        exchange: cs.amqp.exchange,
        queue: cs.amqp.queue,
        onMessage: (body, done) => {
          this.metrics.received('amqp');
          const event = this.parse(body, 'amqp');
          if (event) this.accept(event, done);
          else done(); // malformed or of no interest: logged, dropped, never redelivered for ever
        },
        onState: (up, detail) => this.sourceChanged('amqp', up, detail),
      });
      await this.amqp.start();
    }
    if (cs?.pollEventsSeconds) {
      this.table = new EventTableSource({
        poller: { reads: this.reads, cursor: eventCursor(this.state, 'event-cursor.json') },
        intervalMs: cs.pollEventsSeconds * 1000,
        onRow: (row) => {
          this.metrics.received('event-table');
          const event = fromEventRowSafely(row, (err) => this.dropped('event-table', 'malformed', err));
          if (!event) return Promise.resolve();
          return new Promise<void>((resolve) => this.accept(event, resolve));
        },
        onState: (up, detail) => this.sourceChanged('event-table', up, detail),
      });
      this.table.start();
    }
    await this.feeds.start(this.request.db, this.request.config);
    if (this.watch.fullAudit) {
      const { cron, timeZone } = this.watch.fullAudit;
      this.cron = new Cron(cron, { timezone: timeZone, protect: true }, () => {
        this.fullAudit = this.runFullAudit();
        return this.fullAudit;
      });
    }
    const sources = [
      ...(cs?.amqp ? ['RabbitMQ'] : []),
      ...(cs?.webhookSecret ? ['webhooks'] : []),
      ...(cs?.pollEventsSeconds ? [`cloud.event every ${cs.pollEventsSeconds} s`] : []),
      ...this.feeds.described,
      ...(this.watch.minio?.authToken ? ["MinIO's audit webhook"] : []),
      ...(this.watch.fullAudit
        ? [`full audit "${this.watch.fullAudit.cron}" ${this.watch.fullAudit.timeZone}`]
        : []),
    ];
    const address = this.server.address();
    const listening =
      typeof address === 'object' && address ? `${address.address}:${address.port}` : this.watch.listen;
    log(`watching: ${sources.join(', ') || 'no source configured'}; listening on ${listening}`);
    this.started = true;
    return listening;
  }

  /** SIGTERM: no new event; the audits in flight finish, write and acknowledge; the rest waits at its source. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.cron?.stop();
    await this.amqp?.pause();
    await this.table?.stop();
    await this.feeds.stop();
    const left = await this.debouncer.stop();
    await this.feeds.flush();
    await this.fullAudit?.catch(() => {});
    await this.amqp?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    await this.reads.close().catch(() => {});
    const waiting = left.reduce((n, p) => n + p.items.length, 0);
    if (!this.started) return; // a start that failed is told by its error alone
    this.request.log(
      `stopped${waiting ? `: ${waiting} event(s) not yet audited stay at their source for the next start` : ''}`,
    );
  }

  private run(scope: {
    stores: string[];
    buckets: string[];
    trigger: 'event' | 'schedule';
  }): Promise<RunOutcome> {
    const { request } = this;
    // The storm breaker's memory (what event runs told lately) is read from the ledger by the run.
    return auditAndPublish({
      db: request.db,
      config: request.config,
      stores: scope.stores,
      rules: [],
      buckets: scope.buckets,
      trigger: scope.trigger,
      storage: request.storage,
      formats: request.formats,
      notifiers: request.notifiers,
    }).then((outcome) => {
      this.metrics.setOpenFindings(outcome.ledger, request.config);
      return outcome;
    });
  }

  private async runFullAudit(): Promise<void> {
    const { log } = this.request;
    log('full audit starting (schedule)');
    try {
      const outcome = await this.run({ stores: [], buckets: [], trigger: 'schedule' });
      const { report } = outcome;
      if (report.status === 'in_sync' || report.status === 'drift')
        this.metrics.lastFullAuditSuccess.set(Date.parse(report.finishedAt) / 1000);
      log(
        `full audit ${report.runId}: ${report.status.replace('_', ' ')}, ${report.summary.findings} finding(s), ${report.summary.new} new, ${report.summary.resolved} resolved`,
      );
    } catch (err) {
      log(`full audit failed: ${(err as Error).message}`);
    }
  }

  private accept(event: ChangeEvent, settle: () => void): void {
    if (!worthAuditing(event)) {
      this.metrics.dropped(event.source, 'not-relevant');
      settle();
      return;
    }
    this.debouncer.add(targetKey(event.target), { event, settle });
  }

  private parse(body: string, source: EventSource): ChangeEvent | null {
    try {
      const event = parseBusMessage(body, source, () => new Date());
      if (!event) this.metrics.dropped(source, 'not-relevant');
      return event;
    } catch (err) {
      this.dropped(source, 'malformed', err);
      return null;
    }
  }

  private dropped(source: EventSource, reason: 'malformed' | 'signature', err?: unknown): void {
    this.metrics.dropped(source, reason);
    // A store's log or stream full of garbage is counted in full but logged at most once a minute.
    if (reason === 'malformed' && (source === 'ops-log' || source === 'minio-listen')) {
      const now = Date.now();
      if (now - (this.lastMalformedLog.get(source) ?? -Infinity) < 60_000) return;
      this.lastMalformedLog.set(source, now);
    }
    const why = err instanceof MalformedEventError ? err.message : reason;
    this.request.log(visible(`dropped a ${reason} event from ${source}: ${why.slice(0, 200)}`));
  }

  /** A webhook delivery: 200 only once the event is spooled, so a crash cannot lose it. */
  private async webhook(body: Buffer, signature: string | string[] | undefined): Promise<HttpAnswer> {
    const secret = this.watch.cloudstack?.webhookSecret;
    if (!secret)
      return { status: 404, body: 'webhooks are not configured (watch.cloudstack.webhookSecret)\n' };
    if (this.stopping) return { status: 503, body: 'stopping\n' };
    if (!signatureMatches(secret, body, typeof signature === 'string' ? signature : undefined)) {
      this.dropped('webhook', 'signature');
      return { status: 401, body: 'bad or missing X-CS-Signature\n' };
    }
    this.metrics.received('webhook');
    const text = body.toString('utf8');
    const event = this.parse(text, 'webhook');
    if (!event) return { status: 200, body: 'not an event csdrift audits\n' };
    const id = await this.spool.save(text);
    this.accept(event, () => void this.spool.remove(id));
    return { status: 200, body: 'queued\n' };
  }

  /**
   * MinIO's audit webhook: the Authorization value must be the configured token exactly. The bucket
   * events it holds are spooled before the 200 (MinIO does not send an entry twice).
   */
  private async minioWebhook(
    body: Buffer,
    authorization: string | undefined,
    store: string | undefined,
  ): Promise<HttpAnswer> {
    const token = this.watch.minio?.authToken;
    if (!token)
      return { status: 404, body: "MinIO's audit webhook is not configured (watch.minio.authToken)\n" };
    if (this.stopping) return { status: 503, body: 'stopping\n' };
    if (!tokenMatches(token, authorization)) {
      this.dropped('minio-audit', 'signature');
      return { status: 401, body: 'bad or missing Authorization\n' };
    }
    let events;
    try {
      events = parseMinioAudit(body.toString('utf8'), store, () => new Date());
    } catch (err) {
      this.dropped('minio-audit', 'malformed', err);
      return { status: 400, body: 'not a MinIO audit entry\n' };
    }
    this.metrics.received('minio-audit');
    if (!events.length) return { status: 200, body: 'nothing csdrift audits\n' };
    const id = await this.spool.save(`[${events.map(toQueueMessage).join(',')}]`, STORE_EVENTS_SUFFIX);
    this.acceptAll(events, () => void this.spool.remove(id));
    return { status: 200, body: 'queued\n' };
  }

  /** Store events spooled by an earlier watcher that did not get to their verdicts. */
  private acceptSpooledEvents(spooled: { id: string; body: string }): void {
    let events;
    try {
      events = (JSON.parse(spooled.body) as unknown[]).map(fromQueued);
    } catch (err) {
      this.dropped('minio-audit', 'malformed', err);
      void this.spool.remove(spooled.id);
      return;
    }
    this.acceptAll(events, () => void this.spool.remove(spooled.id));
  }

  /** Several events from one delivery: `done` once every one of them is settled. */
  private acceptAll(events: ChangeEvent[], done: () => void): void {
    let left = events.length;
    for (const event of events)
      this.accept(event, () => {
        left -= 1;
        if (left === 0) done();
      });
  }

  private health(): HttpAnswer {
    const sources = Object.fromEntries(this.sourceState);
    const down = [...this.sourceState.values()].some((s) => s.startsWith('down'));
    return {
      status: this.stopping ? 503 : 200,
      contentType: 'application/json',
      body: `${JSON.stringify({
        status: this.stopping ? 'stopping' : down ? 'degraded' : 'ok',
        sources,
        eventsWaiting: this.debouncer.waiting,
        auditsInFlight: this.debouncer.busy,
      })}\n`,
    };
  }

  private sourceChanged(source: string, up: boolean, detail: string): void {
    const state = `${up ? 'up' : 'down'}: ${detail}`;
    this.metrics.sourceUp.set({ source }, up ? 1 : 0);
    if (this.sourceState.get(source) !== state) this.request.log(visible(`${source}: ${detail}`));
    this.sourceState.set(source, state);
  }
}

function fromEventRowSafely(
  row: Parameters<typeof fromEventRow>[0],
  onError: (err: unknown) => void,
): ChangeEvent | null {
  try {
    return fromEventRow(row);
  } catch (err) {
    onError(err);
    return null;
  }
}
