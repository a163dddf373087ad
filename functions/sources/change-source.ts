// The one shape of every source of change events (docs/contract.md, "Continuous mode"), as KafkaJS
// consumers have it: start, pause, resume, stop; each event handed over with its acknowledgement,
// which the watcher calls only once the event's verdict is written. A source parses its own input and
// says where to look again; it never judges. The watcher starts its sources in order, stops them in
// reverse, and pauses them all above a high-water mark of waiting work: a backlog waits at its source
// (the broker, the log file, the table, the spool on disk), never in memory.
import type { IncomingHttpHeaders } from 'node:http';
import type { ChangeEvent, EventSource } from './cloudstack-event.js';

export type DropReason = 'malformed' | 'signature' | 'not-relevant' | 'unknown-bucket';

/** What a source may tell the watcher. Bound to the source: counts and health carry its name. */
export interface SourceContext {
  /** A change event, and what acknowledges it at the source once its verdict is written. */
  emit(event: ChangeEvent, ack: () => void): void;
  /** Input taken from the source (before parsing), for the received counter. */
  received(count?: number): void;
  /** Input that is no event csdrift audits: counted, and logged at most once a minute per source. */
  dropped(reason: DropReason, why?: string): void;
  /** Whether the source is connected and reading, in words for /healthz and the log. */
  health(up: boolean, detail: string): void;
  /** Something the operator should know that is neither an event nor a change of health: logged. */
  warn(message: string): void;
}

/** An HTTP answer of the watcher's listener. */
export interface HttpAnswer {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A webhook source's route on the watcher's listener: POST to `path`, or to `path/<store>`. */
export interface WebhookRoute {
  path: string;
  /** `/path/<name>` is taken too, the name handed over decoded. */
  withName?: boolean;
  /**
   * Checked on the headers alone, before a byte of the body is read: an unsigned or unauthorised
   * client is answered without costing the daemon its body. Null: go on and read it.
   */
  refuse?(headers: IncomingHttpHeaders): HttpAnswer | null;
  handle(body: Buffer, headers: IncomingHttpHeaders, name: string | undefined): Promise<HttpAnswer>;
}

export interface ChangeSource {
  /** The source's name in /healthz, the log and `csdrift_event_source_up` (`amqp`, `ops-log ceph-1`…). */
  readonly name: string;
  /** Its kind, the `source` label of the event counters. */
  readonly kind: EventSource;
  /** What it follows, in words for the start line. */
  readonly description: string;
  readonly route?: WebhookRoute;
  /** Starts reading; a source that cannot start throws (a config fault), one that is down retries. */
  start(ctx: SourceContext): Promise<void>;
  /** Hands over nothing new until resume: what arrives waits at the source. */
  pause(): void;
  resume(): void;
  /** Takes nothing more; resolves once its acknowledgements so far are saved at the source. */
  stop(): Promise<void>;
}
