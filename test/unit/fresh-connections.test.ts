// scan.keepAlive off means a fresh connection for every request, and scan.concurrency the most at
// once, even when more requests wait than there are sockets (a partition's reads starting while the
// last one's finish): Node's agent would otherwise hand each finished socket to a waiting request,
// and a stock RGW answers a reused connection 40 ms late. Against a real HTTP server on loopback.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CountingHttpHandler } from '../../functions/stores/http.js';

let sockets = 0;
let open = 0;
let mostAtOnce = 0;
const server = createServer((_req, res) => {
  open += 1;
  mostAtOnce = Math.max(mostAtOnce, open);
  setTimeout(() => {
    open -= 1;
    res.end('{}');
  }, 5);
});
server.on('connection', () => (sockets += 1));
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function sendAtOnce(keepAlive: boolean, count: number): Promise<void> {
  const handler = new CountingHttpHandler({
    concurrency: 2,
    requestTimeoutMs: 5_000,
    maxAttempts: 1,
    retryBaseDelayMs: 10,
    keepAlive,
  });
  try {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const request = new HttpRequest({
          protocol: 'http:',
          hostname: '127.0.0.1',
          port,
          method: 'GET',
          path: '/admin/metadata/bucket.instance',
          headers: { host: `127.0.0.1:${port}` },
        });
        const { response } = await handler.handle(request);
        for await (const chunk of response.body as AsyncIterable<Buffer>) void chunk;
      }),
    );
  } finally {
    handler.destroy();
  }
}

describe('the store HTTP handler', () => {
  beforeEach(() => {
    sockets = 0;
    mostAtOnce = 0;
  });

  it('without keep-alive, opens a connection per request even when requests wait, two at a time', async () => {
    await sendAtOnce(false, 20);
    expect(sockets).toBe(20);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
  });

  it('with scan.keepAlive, reuses its connections', async () => {
    await sendAtOnce(true, 20);
    expect(sockets).toBe(2);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
  });
});
