// The watcher's listener with a fake webhook route: a body over the cap gets 413 (sent before the
// socket is closed, not a reset), a malformed path escape 400, and a body a byte at a time arrives whole.
import { request } from 'node:http';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../functions/watch/http-server.js';

describe("the watcher's HTTP listener", () => {
  let server: Server;
  let port: number;
  const got: { body: number; name: string | undefined }[] = [];
  beforeEach(async () => {
    got.length = 0;
    server = await startHttpServer('127.0.0.1:0', {
      health: () => ({ status: 200, body: 'ok' }),
      metrics: async () => ({ status: 200, body: '' }),
      webhooks: [
        {
          path: '/events/minio',
          withName: true,
          handle: async (body, _headers, name) => {
            got.push({ body: body.length, name });
            return { status: 200, body: 'queued\n' };
          },
        },
      ],
    });
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** A POST without a content-length (chunked), as a client that does not say its size sends it. */
  const post = (path: string, bytes: number) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = bytes;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!req.write(chunk.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });

  it('answers 413 to a body over 1 MiB, before closing the connection', async () => {
    expect(await post('/events/minio', 2 * 1024 * 1024)).toBe(413);
    expect(got).toEqual([]);
  });

  it('answers 400 to a malformed escape in the store name, 404 elsewhere, and takes a good delivery', async () => {
    expect(await post('/events/minio/%zz', 10)).toBe(400);
    expect(await post('/events/cloudstack', 10)).toBe(404);
    expect(await post('/events/minio/minio-1', 1024 * 1024)).toBe(200);
    expect(got).toEqual([{ body: 1024 * 1024, name: 'minio-1' }]);
  });

  it('reads a body sent a byte at a time whole', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /events/minio HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n',
    );
    for (let i = 0; i < 2000; i++) socket.write('y');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(got).toEqual([{ body: 2000, name: undefined }]);
  });
});

describe("the watcher's HTTP listener defends itself", () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    server = await startHttpServer(
      '127.0.0.1:0',
      {
        health: () => ({ status: 200, body: 'ok' }),
        metrics: async () => ({ status: 200, body: '' }),
        webhooks: [],
      },
      { headersMs: 300, idleMs: 600_000, maxConnections: 3 }, // idle: far past the test's own timeout
    );
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** A client that sends part of its headers and then nothing. */
  const stalled = async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write('POST /events/cloudstack HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(text)));
    return { socket, closed };
  };

  it('closes every connection that stops mid-headers at its own deadline, and refuses one past the cap with 503', async () => {
    const held = await Promise.all([stalled(), stalled(), stalled()]);
    const refused = await stalled(); // the fourth, while three are open
    expect(await refused.closed).toMatch(/^HTTP\/1\.1 503 Service Unavailable[\s\S]*too many connections/);
    await Promise.all(held.map((h) => h.closed)); // by the headers deadline: the idle one is 10 minutes
    // Once they are gone, a new client is served.
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('ok');
  });
});
