// Signed GETs to a store, SigV4 by a maintained library, with the scan's retries and timeouts: the
// store's JSON admin API (RGW's admin ops at `url + /admin`, MinIO's at `url + /minio/admin/v3`),
// and S3 requests whose answers are too large to take whole (the bucket listing).
import { StoreError } from '../core/errors.js';
import { Hash } from '@smithy/hash-node';
import { JSONParser } from '@streamparser/json';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import pRetry from 'p-retry';
import type * as z from 'zod';
import type { StoreTarget } from '../core/model.js';
import { firstIssue } from '../core/validation.js';
import { ListingCutShortError, NotTheDocumentError, isRetryable } from './classify.js';
import type { Readable } from 'node:stream';
import type { Body } from './bounds.js';
import {
  ERROR_BODY_BYTES,
  boundedText,
  capped,
  checkNesting,
  entryCounter,
  jsonNestingGuard,
  tooLarge,
} from './bounds.js';
import { DEFAULT_MAX_BODY_MIB, DEFAULT_MAX_BUCKETS } from './http.js';
import { decryptMadmin } from './madmin-crypto.js';
import type { CountingHttpHandler, TransportOptions } from './http.js';

/** SHA-256 from node:crypto for SigV4 (the pure-JS hash cost ~10 µs a request at thousands a second). */
const SHA256 = Hash.bind(null, 'sha256');

export class AdminApiError extends StoreError {
  override name = 'AdminApiError';
  readonly $metadata: { httpStatusCode: number };
  constructor(
    statusCode: number,
    /** The store's own error code (`NoSuchBucket`, `XMinioAdminInternalError`). */
    readonly storeCode: string,
  ) {
    super(`the store answered HTTP ${statusCode}${storeCode ? ` ${storeCode}` : ''}`);
    this.$metadata = { httpStatusCode: statusCode };
  }
}

export class SignedGetClient {
  private readonly signer: SignatureV4;
  private readonly base: URL;

  constructor(
    store: StoreTarget,
    private readonly handler: CountingHttpHandler,
    private readonly options: TransportOptions,
  ) {
    if (!store.credentials) throw new StoreError('no credentials');
    this.base = new URL(store.endpoint);
    this.signer = new SignatureV4({
      credentials: { accessKeyId: store.credentials.accessKey, secretAccessKey: store.credentials.secretKey },
      region: 'us-east-1',
      service: 's3',
      sha256: SHA256,
    });
  }

  /**
   * GET `path` below the store's URL; `read` consumes a 2xx body as it streams in. Retries
   * throttling, 5xx and network failures (a body cut off while read included). A request must be
   * done within scan.requestTimeoutMs; on a listing handler it may take as long as it needs, as long
   * as it never falls silent for scan.requestTimeoutMs.
   */
  get<T>(path: string, query: Record<string, string>, read: (body: Body) => Promise<T>): Promise<T> {
    const full = `${this.base.pathname.replace(/\/$/, '')}${path}`;
    return this.retried(() => this.once(full, query, read));
  }

  /**
   * GET `path`: its whole 2xx body, no larger than scan.maxBodyMiB and nested no deeper than any real
   * document, read in one go (an admin document, one user's listing): the same retries and timeouts
   * as `get`, without a stream of chunks to wrap for each of a million small answers.
   */
  getBytes<T>(
    path: string,
    query: Record<string, string>,
    what: string,
    parse: (bytes: Buffer) => T,
  ): Promise<T> {
    const full = `${this.base.pathname.replace(/\/$/, '')}${path}`;
    const maxBytes = (this.options.maxBodyMiB ?? DEFAULT_MAX_BODY_MIB) * 1024 ** 2;
    // Parsed inside the try: an answer cut short into malformed JSON is asked again, like a reset.
    return this.retried(async () =>
      parse(await this.once(full, query, (body) => wholeBody(body, maxBytes, what), false)),
    );
  }

  /** Throttling, 5xx and network failures tried again, with the scan's jittered exponential backoff. */
  private retried<T>(attempt: () => Promise<T>): Promise<T> {
    return pRetry(attempt, {
      retries: this.options.maxAttempts - 1,
      minTimeout: this.options.retryBaseDelayMs,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => isRetryable(error),
    });
  }

  private async once<T>(
    path: string,
    query: Record<string, string>,
    read: (body: Body) => Promise<T>,
    cap = true,
  ) {
    const request = new HttpRequest({
      method: 'GET',
      protocol: this.base.protocol,
      hostname: this.base.hostname,
      ...(this.base.port ? { port: Number(this.base.port) } : {}),
      path,
      query,
      headers: { host: this.base.host },
    });
    const signed = (await this.signer.sign(request)) as HttpRequest;
    const { listing } = this.handler;
    // The request's own deadline, ended with the request: AbortSignal.timeout would keep every
    // request (and what its listeners hold) alive for the whole timeout after it is done, which at
    // thousands of requests a second is hundreds of megabytes.
    const deadline = listing ? undefined : new AbortController();
    const timer = deadline
      ? setTimeout(
          () => deadline.abort(new DOMException('the request timed out', 'TimeoutError')),
          this.options.requestTimeoutMs,
        )
      : undefined;
    try {
      const { response } = await this.handler.handle(
        signed,
        deadline ? { abortSignal: deadline.signal } : {},
      );
      // The listing handler has no socket idle timeout (it must wait for the first byte): guard here.
      const raw = listing
        ? silenceGuard(response.body, this.options.requestTimeoutMs)
        : ((response.body ?? []) as Body);
      if (response.statusCode >= 300) {
        const text = await boundedText(raw, ERROR_BODY_BYTES);
        const code =
          /"Code"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? '';
        throw new AdminApiError(response.statusCode, code);
      }
      const maxBytes = (this.options.maxBodyMiB ?? DEFAULT_MAX_BODY_MIB) * 1024 ** 2;
      return await read(cap ? capped(raw, maxBytes, `GET ${path}`) : raw);
    } finally {
      clearTimeout(timer);
    }
  }
}

export class AdminApiClient {
  private readonly http: SignedGetClient;
  /** MinIO encrypts some answers with the requesting admin's secret key (madmin-crypto.ts). Never logged. */
  private readonly secretKey: string;

  constructor(
    store: StoreTarget,
    handler: CountingHttpHandler,
    options: TransportOptions,
    /** Where the admin API lives below the store's URL. */
    private readonly prefix: '/admin' | '/minio/admin/v3',
  ) {
    this.http = new SignedGetClient(store, handler, options);
    this.secretKey = store.credentials?.secretKey ?? '';
  }

  /**
   * GET `<prefix>/<resource>` whose body MinIO encrypted with the admin's secret key (madmin-go
   * EncryptData): decrypted, then read as `schema` describes it, like `get`.
   */
  async getEncrypted<S extends z.ZodType>(
    resource: string,
    query: Record<string, string>,
    schema: S,
  ): Promise<z.infer<S>> {
    const what = `GET ${this.prefix}/${resource}`;
    const sealed = await this.http.get(`${this.prefix}/${resource}`, query, async (body) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      return Buffer.concat(chunks);
    });
    // Decrypted once the answer is in: the request's timeout is the store's, not the key derivation's
    // (Argon2id over 64 MiB, about half a second of our own CPU).
    const plain = await decryptMadmin(this.secretKey, sealed);
    checkNesting(plain, what);
    return parseDocument(plain.toString('utf8'), what, schema);
  }

  /**
   * GET `<prefix>/<resource>`, which answers with a JSON list: each entry, as `pick` reduces it, handed
   * to `onEntry` as it arrives, so that no list is ever held. An answer cut off and asked again
   * resends its first entries: those already handed on are skipped (the store's order is stable).
   */
  async eachOfList<T>(
    resource: string,
    query: Record<string, string>,
    pick: (entry: unknown) => T,
    onEntry: (entry: T) => void,
    maxEntries = DEFAULT_MAX_BUCKETS,
  ): Promise<void> {
    const what = `GET ${this.prefix}/${resource}`;
    let handed = 0;
    const count = entryCounter(maxEntries, what);
    await this.http.get(`${this.prefix}/${resource}`, query, async (body) => {
      let seen = 0;
      await readList(body, what, (raw) => {
        seen += 1;
        if (seen <= handed) return;
        count();
        onEntry(pick(raw));
        handed += 1;
      });
    });
  }

  /**
   * GET `<prefix>/<resource>` with query parameters: its JSON body as `schema` describes it. Any
   * other 200 (not JSON, another shape) is no answer at all: NotTheDocumentError, never a value.
   */
  async get<S extends z.ZodType>(
    resource: string,
    query: Record<string, string>,
    schema: S,
  ): Promise<z.infer<S>> {
    const what = `GET ${this.prefix}/${resource}`;
    return this.http.getBytes(`${this.prefix}/${resource}`, query, what, (bytes) =>
      parseDocument(bytes.toString('utf8'), what, schema),
    );
  }

  /**
   * GET `<prefix>/<resource>`, which answers with a JSON list small enough to read whole (one RGW
   * user's buckets): parsed at once, natively, each entry as `pick` reduces it. A listing of the
   * whole store goes through `getList`, which never holds it.
   */
  getSmallList<T>(
    resource: string,
    query: Record<string, string>,
    pick: (entry: unknown) => T,
    maxEntries = DEFAULT_MAX_BUCKETS,
  ): Promise<T[]> {
    const what = `GET ${this.prefix}/${resource}`;
    return this.http.getBytes(`${this.prefix}/${resource}`, query, what, (bytes) => {
      const text = bytes.toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new ListingCutShortError(`${what} answered with JSON cut short or malformed: ${String(err)}`);
      }
      if (!Array.isArray(parsed)) throw new ListingCutShortError(`${what} did not answer with a list`);
      const count = entryCounter(maxEntries, what);
      return parsed.map((entry: unknown) => {
        count();
        return pick(entry);
      });
    });
  }
}

/**
 * A whole body, failing as soon as it passes `maxBytes`, and then once it nests deeper than any real
 * document (bounds.ts): checked whole before it is parsed, not chunk by chunk (the size bounds what
 * is held; only a parser cares how deep it nests). A response stream is read by its events: no async
 * iterator per answer.
 */
async function wholeBody(body: Body, maxBytes: number, what: string): Promise<Buffer> {
  const stream = body as Body & Partial<Readable>;
  const whole =
    typeof stream.on === 'function'
      ? await streamed(stream, maxBytes, what)
      : await iterated(body, maxBytes, what);
  checkNesting(whole, what);
  return whole;
}

function streamed(stream: Body & Partial<Readable>, maxBytes: number, what: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on?.('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy?.();
        return reject(tooLarge(what, maxBytes));
      }
      chunks.push(chunk);
    });
    let ended = false;
    stream.on?.('error', reject);
    stream.on?.('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    // A connection that closes before the body ends, whatever the stream says of it: cut short.
    stream.on?.('close', () => {
      if (!ended)
        reject(
          Object.assign(new Error(`${what}: the connection closed before the answer ended`), {
            code: 'ECONNRESET',
          }),
        );
    });
  });
}

/** The same for a body that is no stream (a guarded listing's). */
async function iterated(body: Body, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of capped(body, maxBytes, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A JSON document (its nesting already checked) as `schema` describes it; anything else is no answer at all (NotTheDocumentError). */
function parseDocument<S extends z.ZodType>(text: string, what: string, schema: S): z.infer<S> {
  let parsed: unknown;
  try {
    // Its nesting was checked before (wholeBody, getEncrypted): the parser never sees a bracket bomb.
    parsed = JSON.parse(text);
  } catch {
    throw new NotTheDocumentError(`${what} answered with something that is not JSON`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success)
    throw new NotTheDocumentError(`${what} answered with another document (${firstIssue(result.error)})`);
  return result.data;
}

/**
 * A JSON list read as it streams in, each entry handed on as it arrives: a list of a million
 * buckets is never held as text or as whole objects. Anything but a complete list is a listing cut
 * short.
 */
export async function readList(body: Body, what: string, onEntry: (entry: unknown) => void): Promise<void> {
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  const nesting = jsonNestingGuard(what);
  parser.onValue = ({ value }) => onEntry(value);
  let opened = false;
  const parse = (chunk: Buffer | null) => {
    try {
      // The parser ends itself once the list closes; ending it before that throws: cut short.
      if (chunk) parser.write(chunk);
      else if (!parser.isEnded) parser.end();
    } catch (err) {
      if (err instanceof ListingCutShortError) throw err; // a bound, thrown from onValue
      throw new ListingCutShortError(`${what} answered with JSON cut short or malformed: ${String(err)}`);
    }
  };
  for await (const chunk of body) {
    if (!opened) {
      const start = chunk.toString('utf8').trimStart();
      if (start && !start.startsWith('['))
        throw new ListingCutShortError(`${what} did not answer with a list`);
      opened = Boolean(start);
    }
    nesting(chunk);
    parse(chunk);
  }
  if (!opened) throw new ListingCutShortError(`${what} answered with an empty body`);
  parse(null);
}

/** A body that fails once the store has sent nothing for `ms`: a listing stalled half-way. */
async function* silenceGuard(body: unknown, ms: number): Body {
  if (!body) return;
  const stream = body as Body & { destroy?: (err: Error) => void };
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`the store sent nothing for ${ms} ms`), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    stream.destroy?.(err);
  }, ms);
  try {
    for await (const chunk of stream) {
      timer.refresh();
      yield chunk;
    }
  } finally {
    clearTimeout(timer);
  }
}
