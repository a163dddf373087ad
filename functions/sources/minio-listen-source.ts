// One MinIO store's bucket create/remove notifications, followed: ListenNotification
// (`GET /?events=s3:BucketCreated:*&events=s3:BucketRemoved:*&ping=N`, a MinIO extension signed
// with the store's admin keys, cmd/listen-notification-handlers.go) streams one
// `{"Records":[…]}` per line and a `{"Records":null}` ping every N seconds. A stream that ends,
// fails or falls silent for three pings is opened again, with a growing pause. There is nothing
// to acknowledge: what happens while it is down is the nightly full audit's to find.
import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { StoreTarget } from '../core/model.js';
import { MAX_LINE_BYTES, followLines } from './bounded-lines.js';
import type { ChangeSource, SourceContext } from './change-source.js';
import { parseMinioNotification } from './minio-event.js';

/** SHA-256 from node:crypto for SigV4 (the pure-JS hash cost ~10 µs a request at thousands a second). */
const SHA256 = Hash.bind(null, 'sha256');

export const LISTEN_EVENTS = ['s3:BucketCreated:*', 's3:BucketRemoved:*'];

export interface MinioListenOptions {
  store: StoreTarget;
  pingSeconds?: number;
  /** The first pause before opening the stream again; it doubles up to 30 s. */
  reconnectMs?: number;
}

export class MinioListenSource implements ChangeSource {
  readonly kind = 'minio-listen' as const;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private timer: NodeJS.Timeout | undefined;
  private silence: NodeJS.Timeout | undefined;
  private stopped = false;
  private paused = false;
  private retryMs: number;
  private ctx: SourceContext | undefined;

  constructor(private readonly options: MinioListenOptions) {
    this.retryMs = options.reconnectMs ?? 2000;
  }

  get name(): string {
    return `minio-listen ${this.options.store.name}`;
  }

  get description(): string {
    return `${this.options.store.name}'s bucket notifications`;
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    void this.open();
  }

  /** The stream is read no further (TCP pushes back on MinIO); its silence is no outage meanwhile. */
  pause(): void {
    this.paused = true;
    clearTimeout(this.silence);
    this.res?.pause();
  }

  resume(): void {
    this.paused = false;
    this.res?.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.silence);
    this.req?.destroy();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const { store } = this.options;
    const ping = this.options.pingSeconds ?? 30;
    const base = new URL(store.endpoint);
    const credentials = store.credentials;
    if (!credentials) return this.down('the store has no keys in CloudStack');
    const signer = new SignatureV4({
      credentials: { accessKeyId: credentials.accessKey, secretAccessKey: credentials.secretKey },
      region: 'us-east-1',
      service: 's3',
      sha256: SHA256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path: `${base.pathname.replace(/\/$/, '')}/`,
        query: { events: LISTEN_EVENTS, ping: String(ping) },
        headers: { host: base.host },
      }),
    );
    const query = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${encodeURIComponent(String(x))}`))
      .join('&');
    const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      method: 'GET',
      host: base.hostname,
      port: base.port || undefined,
      path: `${signed.path}?${query}`,
      headers: signed.headers,
    });
    this.req = req;
    req.on('response', (res) => this.follow(res, ping));
    req.on('error', (err) => this.down(err.message));
    req.end();
  }

  private follow(res: IncomingMessage, ping: number): void {
    res.on('error', (err) => this.down(err.message));
    if (res.statusCode !== 200) {
      res.resume();
      return this.down(`HTTP ${res.statusCode ?? '?'}`);
    }
    this.retryMs = this.options.reconnectMs ?? 2000;
    this.res = res;
    const ctx = this.ctx as SourceContext;
    ctx.health(true, `listening to ${this.options.store.name}'s bucket notifications`);
    const quiet = () => {
      clearTimeout(this.silence);
      if (this.paused) return;
      this.silence = setTimeout(() => res.destroy(new Error(`silent for ${3 * ping} s`)), 3 * ping * 1000);
    };
    quiet();
    if (this.paused) res.pause();
    res.on('data', quiet);
    res.on('resume', quiet);
    const overlong = () => {
      ctx.dropped('malformed', `a line of more than ${MAX_LINE_BYTES} bytes`);
      res.destroy(new Error('a line too long'));
    };
    followLines(
      res,
      (line) => {
        try {
          for (const event of parseMinioNotification(line, this.options.store.uuid, () => new Date())) {
            ctx.received();
            ctx.emit(event, () => {}); // a stream keeps no position: nothing to acknowledge
          }
        } catch (err) {
          ctx.dropped('malformed', (err as Error).message);
        }
      },
      overlong,
    );
    res.on('end', () => this.down('the stream ended'));
  }

  private down(why: string): void {
    clearTimeout(this.silence);
    if (this.stopped) return;
    this.req?.destroy();
    clearTimeout(this.timer);
    this.ctx?.health(false, `${why}; listening again in ${this.retryMs / 1000} s`);
    this.timer = setTimeout(() => void this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }
}
