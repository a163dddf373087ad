// csdrift watch: CloudStack's change events (its RabbitMQ bus, its webhooks, its event table) and the
// stores' own feeds (RGW ops logs, MinIO's audit webhook and bucket notifications) become targeted
// audits; the full audit can run on a schedule in the same process. Every audit is the
// engine's own run (auditAndPublish): reports, the shared ledger, tasks and resolved messages as a
// full audit tells them. An event is only ever where to look again; the audit is the verdict.
import type { Server } from 'node:http';
import { Cron } from 'croner';
import { throttledLog, type ThrottledLog } from '../common/throttled-log.js';
import type { AuditRequest } from '../audit.js';
import { CloudStackEventReads } from '../cloudstack/event-reads.js';
import type { AuditConfig, WatchConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { FindingCause } from '../core/model.js';
import { actionsSetup } from '../core/actions.js';
import { visible } from '../core/shell.js';
import type { Notifier } from '../notify/notifier.js';
import type { ReportFormat } from '../reports/formats.js';
import type { RunOutcome } from '../run.js';
import { auditAndPublish } from '../run.js';
import type { ChangeSource, DropReason, SourceContext } from '../sources/change-source.js';
import type { ChangeEvent } from '../sources/cloudstack-event.js';
import { worthAuditing } from '../sources/cloudstack-event.js';
import { FolderStorage } from '../state/folder-storage.js';
import type { StateStorage } from '../state/storage.js';
import { Debouncer } from './debouncer.js';
import { actOnClick } from '../actions/act.js';
import { slackActionsRoute } from '../actions/slack-actions.js';
import type { QueuedEvent } from './event-audits.js';
import { EventAudits, targetKey } from './event-audits.js';
import type { HttpAnswer } from './http-server.js';
import { startHttpServer } from './http-server.js';
import { watchSources } from './sources.js';
import { WatchMetrics } from './watch-metrics.js';

export interface WatchRequest {
  db: AuditRequest['db'];
  config: AuditConfig;
  storage: StateStorage;
  formats: ReportFormat[];
  notifiers: Notifier[];
  /** Where the spool of webhook deliveries and the event table's cursor are kept. */
  stateDir: string;
  /** The config file, as errors about it name it (default `config`). */
  configSource?: string;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Retry wait of a failed event audit; tests shorten it. */
  retryMs?: number;
  /** How long an ops log file may be missing before its feed counts as down (default 30 s); tests shorten it. */
  feedMissingAfterMs?: number;
  /** Sources to follow instead of those the config names (tests, and programs that embed the watcher). */
  sources?: ChangeSource[];
  /** The audit each event batch and the scheduled full audit run; the engine's own unless given (tests). */
  runAudit?: (scope: {
    stores: string[];
    buckets: string[];
    trigger: 'event' | 'schedule';
    failedDeletes?: string[];
    causes?: Record<string, FindingCause>;
  }) => Promise<RunOutcome>;
}

/** The full-audit schedule, checked at start: a typo in the cron fails loudly, before anything runs. */
export function checkSchedule(watch: WatchConfig, source = 'config'): void {
  if (!watch.fullAudit) return;
  try {
    // An unknown zone fails here, not at the first tick.
    new Intl.DateTimeFormat('en', { timeZone: watch.fullAudit.timeZone });
    new Cron(watch.fullAudit.cron, { timezone: watch.fullAudit.timeZone, paused: true }).stop();
  } catch (err) {
    throw new ConfigError(`${source}: watch.fullAudit: ${(err as Error).message}`, { cause: err });
  }
}

export class Watcher {
  readonly metrics = new WatchMetrics();
  private readonly watch: WatchConfig;
  private readonly reads: CloudStackEventReads;
  private readonly debouncer: Debouncer<QueuedEvent>;
  /** The watcher's own state folder: the spool, the event table's cursor, the ops logs' positions. */
  private readonly state: FolderStorage;
  /** The sources started so far, in start order: stopped in reverse. */
  private readonly sources: ChangeSource[] = [];
  private readonly sourceState = new Map<string, string>();
  /** Dropped input is counted in full but said once a minute per source: a flood of garbage cannot flood the log. */
  private readonly noisy: ThrottledLog;
  private server: Server | undefined;
  private slack: ReturnType<typeof slackActionsRoute> | undefined;
  private cron: Cron | undefined;
  private fullAudit: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  /** Events handed over by the sources and not yet acknowledged: what backpressure bounds. */
  private pending = 0;
  private paused = false;

  constructor(private readonly request: WatchRequest) {
    const watch = request.config.watch;
    if (!watch)
      throw new ConfigError(
        `${request.configSource ?? 'config'}: watch: required for csdrift watch (at least one event source)`,
      );
    this.watch = watch;
    this.noisy = throttledLog(request.log);
    // Self-healing asked for and impossible fails the start; half a Slack set-up is said and goes on.
    const setup = actionsSetup(request.config);
    if (setup.errors.length) throw new ConfigError(`${request.configSource ?? 'config'}: ${setup.errors[0]}`);
    for (const warning of setup.warnings) request.log(`warning: ${warning}`);
    // Each channel's series from the start, at 0: an alert on its increase needs it to exist.
    for (const notifier of request.notifiers)
      this.metrics.notificationsFailed.inc({ channel: notifier.channel }, 0);
    this.reads = new CloudStackEventReads(request.db);
    this.state = new FolderStorage(request.stateDir);
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

  /**
   * The sources are built from the config (a feed naming no store fails here), the listener comes
   * up with their routes (a port in use fails the start), then each source starts, in order.
   */
  async start(): Promise<string> {
    const { log } = this.request;
    const sources =
      this.request.sources ??
      (await watchSources({
        watch: this.watch,
        db: this.request.db,
        config: this.request.config,
        reads: this.reads,
        state: this.state,
        ...(this.request.configSource ? { configSource: this.request.configSource } : {}),
        ...(this.request.feedMissingAfterMs !== undefined
          ? { feedMissingAfterMs: this.request.feedMissingAfterMs }
          : {}),
      }));
    const slack = this.slackRoute();
    this.server = await startHttpServer(this.watch.listen, {
      health: () => this.health(),
      metrics: async () => ({
        status: 200,
        body: await this.metrics.text(),
        contentType: this.metrics.registry.contentType,
      }),
      webhooks: [...sources.flatMap((s) => (s.route ? [s.route] : [])), ...(slack ? [slack] : [])],
      // Nothing was lost (the sender retries on 500), but the operator must learn why: a full disk, a permission.
      failed: (request, err) =>
        this.noisy(`http-500`, visible(`${request}: answered 500: ${(err as Error).message}`)),
    });
    for (const source of sources) {
      await source.start(this.contextFor(source));
      this.sources.push(source);
      // A source that has nothing to connect to (a webhook route) is up once started: /healthz lists
      // every active source, not only those that report their connection.
      if (!this.sourceState.has(source.name)) {
        this.sourceState.set(source.name, `up: ${source.description}`);
        this.metrics.sourceUp.set({ source: source.name }, 1);
      }
    }
    if (this.watch.fullAudit) {
      const { cron, timeZone } = this.watch.fullAudit;
      this.cron = new Cron(cron, { timezone: timeZone, protect: true }, () => {
        this.fullAudit = this.runFullAudit();
        return this.fullAudit;
      });
    }
    const described = [
      ...sources.map((s) => s.description),
      ...(slack ? ['Slack buttons at POST /slack/actions'] : []),
      ...(this.request.config.remediation.auto.failedDeletes
        ? [`self-healing of failed deletes${this.request.config.remediation.auto.dryRun ? ' (dry run)' : ''}`]
        : []),
      ...(this.watch.fullAudit
        ? [`full audit "${this.watch.fullAudit.cron}" ${this.watch.fullAudit.timeZone}`]
        : []),
    ];
    const address = this.server.address();
    const listening =
      typeof address === 'object' && address ? `${address.address}:${address.port}` : this.watch.listen;
    log(`watching: ${described.join(', ') || 'no source configured'}; listening on ${listening}`);
    this.started = true;
    return listening;
  }

  /**
   * SIGTERM: every source pauses (nothing new is handed over), the audits in flight finish, write and
   * acknowledge; then the sources stop in reverse order, each saving how far it was acknowledged.
   * What was not yet audited stays at its source for the next start.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.cron?.stop();
    for (const source of [...this.sources].reverse()) source.pause();
    const left = await this.debouncer.stop();
    await this.fullAudit?.catch(() => {});
    await this.slack?.idle();
    for (const source of [...this.sources].reverse()) await source.stop().catch(() => {});
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
    await this.reads.close().catch(() => {});
    const waiting = left.reduce((n, p) => n + p.items.length, 0);
    if (!this.started) return; // a start that failed is told by its error alone
    this.request.log(
      `stopped${waiting ? `: ${waiting} event(s) not yet audited stay at their source for the next start` : ''}`,
    );
  }

  /** How a source tells the watcher what it has: events, drops and its health, under its name. */
  private contextFor(source: ChangeSource): SourceContext {
    return {
      emit: (event, ack) => {
        this.pending += 1;
        this.metrics.eventsPending.set(this.pending);
        let settled = false;
        this.accept(event, () => {
          if (settled) return;
          settled = true;
          this.pending -= 1;
          this.metrics.eventsPending.set(this.pending);
          ack();
          this.relieve();
        });
        this.pressure();
      },
      received: (count = 1) => this.metrics.received(source.kind, count),
      dropped: (reason, why) => this.dropped(source, reason, why),
      health: (up, detail) => this.sourceChanged(source.name, up, detail),
      warn: (message) => this.request.log(visible(`${source.name}: ${message}`)),
    };
  }

  /** Above the high-water mark of events waiting for their verdicts, every source pauses… */
  private pressure(): void {
    if (this.paused || this.pending < this.watch.maxPendingEvents) return;
    this.paused = true;
    this.metrics.paused.set(1);
    this.request.log(
      `${this.pending} event(s) waiting for their audits: sources paused until half of them are done`,
    );
    for (const source of this.sources) source.pause();
  }

  /** …and resumes below half of it. */
  private relieve(): void {
    if (!this.paused || this.stopping || this.pending > this.watch.maxPendingEvents / 2) return;
    this.paused = false;
    this.metrics.paused.set(0);
    this.request.log(`${this.pending} event(s) waiting: sources resumed`);
    for (const source of this.sources) source.resume();
  }

  private run(scope: {
    stores: string[];
    buckets: string[];
    trigger: 'event' | 'schedule';
    failedDeletes?: string[];
    causes?: Record<string, FindingCause>;
  }): Promise<RunOutcome> {
    const { request } = this;
    if (request.runAudit) return request.runAudit(scope);
    // The storm breaker's memory (what event runs told lately) is read from the ledger by the run.
    return auditAndPublish({
      db: request.db,
      config: request.config,
      stores: scope.stores,
      rules: [],
      buckets: scope.buckets,
      trigger: scope.trigger,
      ...(scope.failedDeletes ? { failedDeletes: scope.failedDeletes } : {}),
      ...(scope.causes ? { causes: scope.causes } : {}),
      storage: request.storage,
      formats: request.formats,
      notifiers: request.notifiers,
    }).then((outcome) => {
      this.metrics.setOpenFindings(outcome.ledger, request.config);
      this.metrics.setChecks(outcome.report.coverage);
      const told = outcome.notified;
      for (const [channel, n] of Object.entries(told?.failed ?? {}))
        if (n) this.metrics.notificationsFailed.inc({ channel }, n);
      for (const h of outcome.healing ?? [])
        if (h.outcome !== 'left' || !h.why.startsWith('self-healing is off'))
          this.metrics.remediations.inc({
            action: 'fix',
            outcome: h.outcome === 'healed' ? 'done' : h.outcome === 'failed' ? 'failed' : 'refused',
            via: 'auto',
          });
      for (const failure of told?.failures ?? [])
        this.noisy('notify-failed', visible(`notification not sent, to be tried again: ${failure}`));
      return outcome;
    });
  }

  /** With a Slack signing secret: the route of the tasks' buttons (CONTRACT "Remediation"). */
  private slackRoute(): ReturnType<typeof slackActionsRoute> | undefined {
    const secret = this.request.config.notify?.slack?.signingSecret;
    if (!secret) return undefined;
    const { request } = this;
    this.slack = slackActionsRoute({
      secret,
      storage: request.storage,
      act: (click) => actOnClick({ db: request.db, config: request.config, storage: request.storage, click }),
      log: (line) => request.log(visible(line)),
      observe: (click, outcome) =>
        this.metrics.remediations.inc({ action: click.action, outcome, via: 'slack' }),
      refused: (why) => this.noisy('slack-refused', `slack: refused a request: ${why}`),
    });
    return this.slack;
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

  private dropped(source: ChangeSource, reason: DropReason, why?: string): void {
    this.metrics.dropped(source.kind, reason);
    if (reason === 'not-relevant') return; // of no interest: counted, not logged
    // Garbage or refused input is counted in full but logged at most once a minute per source.
    const words = reason === 'signature' ? 'refused a delivery' : 'dropped input that is no change event';
    this.noisy(`drop:${source.name}`, visible(`${source.name}: ${words}: ${(why ?? reason).slice(0, 200)}`));
  }

  private health(): HttpAnswer {
    const sources = Object.fromEntries(this.sourceState);
    const down = [...this.sourceState.values()].some((s) => s.startsWith('down'));
    return {
      status: this.stopping ? 503 : 200,
      contentType: 'application/json',
      body: `${JSON.stringify({
        status: this.stopping ? 'stopping' : !this.started ? 'starting' : down ? 'degraded' : 'ok',
        sources,
        eventsWaiting: this.debouncer.waiting,
        eventsPending: this.pending,
        paused: this.paused,
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
