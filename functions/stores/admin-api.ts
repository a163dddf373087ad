// A store's JSON admin API, SigV4-signed by a maintained library: RGW's admin ops at `url + /admin`,
// MinIO's at `url + /minio/admin/v3`.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import pRetry from 'p-retry';
import type { StoreTarget } from '../core/model.js';
import { isRetryable } from './classify.js';
import type { CountingHttpHandler, TransportOptions } from './http.js';

export class AdminApiError extends Error {
  override name = 'AdminApiError';
  readonly $metadata: { httpStatusCode: number };
  constructor(
    statusCode: number,
    readonly code: string,
  ) {
    super(`admin API answered HTTP ${statusCode}${code ? ` ${code}` : ''}`);
    this.$metadata = { httpStatusCode: statusCode };
  }
}

export class AdminApiClient {
  private readonly signer: SignatureV4;
  private readonly base: URL;

  constructor(
    store: StoreTarget,
    private readonly handler: CountingHttpHandler,
    private readonly options: TransportOptions,
    /** Where the admin API lives below the store's URL. */
    private readonly prefix: '/admin' | '/minio/admin/v3',
  ) {
    if (!store.credentials) throw new Error('no credentials');
    this.base = new URL(store.endpoint);
    this.signer = new SignatureV4({
      credentials: { accessKeyId: store.credentials.accessKey, secretAccessKey: store.credentials.secretKey },
      region: 'us-east-1',
      service: 's3',
      sha256: Sha256,
    });
  }

  /** GET `<prefix>/<resource>` with query parameters; the parsed JSON body. Retries throttling and 5xx. */
  async get(resource: string, query: Record<string, string>): Promise<unknown> {
    const path = `${this.base.pathname.replace(/\/$/, '')}${this.prefix}/${resource}`;
    return pRetry(() => this.once(path, query), {
      retries: this.options.maxAttempts - 1,
      minTimeout: this.options.retryBaseDelayMs,
      factor: 2,
      randomize: true,
      shouldRetry: ({ error }) => isRetryable(error),
    });
  }

  private async once(path: string, query: Record<string, string>): Promise<unknown> {
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
    const { response } = await this.handler.handle(signed, {
      abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs),
    });
    const body = await readBody(response.body);
    if (response.statusCode >= 300) {
      const code = /"Code"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? '';
      throw new AdminApiError(response.statusCode, code);
    }
    return JSON.parse(body);
  }
}

async function readBody(body: unknown): Promise<string> {
  if (!body) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
