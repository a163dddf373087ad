// The bare scripts' way to a Ceph RGW, with no engine around it: an S3 client and a SigV4-signed admin
// GET on one agent, and a count of every request sent. Connections are fresh per request, as the
// audit's are by default (scan.keepAlive), unless asked otherwise.
import { Agent } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Keys } from '../test/support/ceph.js';

/** SHA-256 from node:crypto for SigV4 (the pure-JS hash cost ~10 µs a request at thousands a second). */
const SHA256 = Hash.bind(null, 'sha256');

export interface BareStore {
  s3: S3Client;
  /** GET /admin/<resource>; the status and the parsed JSON body (null unless 2xx). */
  adminGet(resource: string, query: Record<string, string>): Promise<{ status: number; body: unknown }>;
  requests(): number;
  close(): void;
}

class CountedHandler extends NodeHttpHandler {
  sent = 0;
  constructor(
    agent: Agent,
    /** No keep-alive: every request says `Connection: close`. */
    private readonly fresh: boolean,
  ) {
    super({ httpAgent: agent });
  }
  override handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    this.sent += 1;
    // As the audit's handler (functions/stores/http.ts): no socket handed on to a waiting request.
    if (this.fresh) args[0].headers.connection = 'close';
    return super.handle(...args);
  }
}

export function bareStore(endpoint: string, keys: Keys, maxSockets: number, keepAlive = false): BareStore {
  const agent = new Agent({ keepAlive, maxSockets });
  const handler = new CountedHandler(agent, !keepAlive);
  const credentials = { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey };
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestHandler: handler,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: SHA256 });
  const base = new URL(endpoint);
  return {
    s3,
    async adminGet(resource, query) {
      const request = new HttpRequest({
        method: 'GET',
        protocol: base.protocol,
        hostname: base.hostname,
        port: Number(base.port),
        path: `/admin/${resource}`,
        query,
        headers: { host: base.host },
      });
      const { response } = await handler.handle((await signer.sign(request)) as HttpRequest);
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return { status: response.statusCode, body: ok ? (JSON.parse(text) as unknown) : null };
    },
    requests: () => handler.sent,
    close: () => {
      s3.destroy();
      agent.destroy();
    },
  };
}
