// One HTTP handler per store: at most `concurrency` connections, per-request timeouts, and a count of every
// request actually sent (retries included), since store requests are the auditor's main cost.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';

export interface TransportOptions {
  concurrency: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  /** Reuse connections; see scan.keepAlive in core/config.ts for why it is off by default. */
  keepAlive?: boolean;
  /** Base of the jittered exponential backoff between retries. */
  retryBaseDelayMs: number;
  /** Listing entries beyond which the store is partial (config scan.maxBuckets). */
  maxBuckets?: number;
  /** Bytes of one answer beyond which it is not read on (config scan.maxBodyMiB). */
  maxBodyMiB?: number;
  /** The store's private CA (PEM), trusted beside the system's CAs (config stores.*.caBundle). */
  ca?: string;
}

export const DEFAULT_MAX_BUCKETS = 1_000_000;
export const DEFAULT_MAX_BODY_MIB = 256;

/**
 * How long a store may take to start answering its listing: RGW's stats listing computes every
 * bucket's usage first (about 1 ms a bucket measured, 10 s at 10,000 buckets), so the wait grows
 * with the buckets CloudStack records there; once it answers, it may not fall silent for longer
 * than the request timeout.
 */
export const LISTING_MS_PER_BUCKET = 3;

export class CountingHttpHandler extends NodeHttpHandler {
  requests = 0;
  /** Set for the handler of a store's listing, whose body its reader guards (admin-api.ts). */
  readonly listing: boolean;
  private readonly fresh: boolean;

  /**
   * Every request fails once the store has been silent for the request timeout, before or after
   * its answer began. A listing handler (`listingOf`: the buckets CloudStack records there) instead
   * waits for the first byte as long as the store's size needs.
   */
  constructor(options: TransportOptions, { listingOf }: { listingOf?: number } = {}) {
    const listing = listingOf !== undefined;
    super({
      connectionTimeout: options.requestTimeoutMs,
      requestTimeout: listing
        ? options.requestTimeoutMs + LISTING_MS_PER_BUCKET * listingOf
        : options.requestTimeoutMs,
      ...(listing ? {} : { socketTimeout: options.requestTimeoutMs }),
      throwOnRequestTimeout: true, // otherwise smithy only warns, and a hung store hangs the audit
      httpAgent: new HttpAgent({ keepAlive: options.keepAlive ?? false, maxSockets: options.concurrency }),
      httpsAgent: new HttpsAgent({
        keepAlive: options.keepAlive ?? false,
        maxSockets: options.concurrency,
        // Node's `ca` replaces the system's CAs: a private CA is added to them, not put in their place.
        ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
      }),
    });
    this.listing = listing;
    this.fresh = !options.keepAlive;
  }

  override handle(request: HttpRequest, options?: HttpHandlerOptions): Promise<{ response: HttpResponse }> {
    this.requests += 1;
    // Without keep-alive, Node's agent still hands a finished socket to a request waiting for one
    // (it has `maxSockets`): more requests than sockets (a partition's reads starting while the last
    // one's finish) went out on reused connections, each 40 ms late on a stock RGW. `Connection:
    // close` (not signed: SigV4 leaves it out) makes every socket end with its answer.
    if (this.fresh) request.headers.connection = 'close';
    return super.handle(request, options);
  }
}
