// The watcher's HTTP face: GET /healthz, GET /metrics, and the routes of its webhook sources
// (POST /events/cloudstack, POST /events/minio[/<store>]), each source bringing its own. Bodies are
// capped; nothing here waits on an audit: a webhook is answered once its event is spooled.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpAnswer, WebhookRoute } from '../sources/change-source.js';

export type { HttpAnswer } from '../sources/change-source.js';

export interface WatchRoutes {
  health: () => HttpAnswer;
  metrics: () => Promise<HttpAnswer>;
  /** The webhook sources' routes, as they are configured. */
  webhooks: WebhookRoute[];
  /** A request answered 500: told with its method and path, so the log says why. */
  failed?: (request: string, err: unknown) => void;
}

const MAX_BODY_BYTES = 1024 * 1024; // CloudStack's event JSON is under 2 KiB

/** The listener's own deadlines and cap: it does not rely on the runtime's connection checker. */
export interface ListenerLimits {
  /** From a connection (or the end of its last answer) to a request's complete headers. */
  headersMs: number;
  /** A connection that sends nothing for this long is closed. */
  idleMs: number;
  /** Connections open at once; past it a new one is answered 503 and closed. */
  maxConnections: number;
}

const LIMITS: ListenerLimits = { headersMs: 10_000, idleMs: 30_000, maxConnections: 256 };
const TOO_MANY =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nRetry-After: 5\r\nContent-Length: 21\r\n\r\ntoo many connections\n';

export async function startHttpServer(
  listen: string,
  routes: WatchRoutes,
  limits: ListenerLimits = LIMITS,
): Promise<Server> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(at + 1));
  const server = createServer((req, res) => {
    answer(req, routes)
      .catch((err): HttpAnswer => {
        routes.failed?.(`${req.method ?? '?'} ${(req.url ?? '/').split('?')[0]}`, err);
        return { status: 500, body: 'internal error\n' };
      })
      .then((a) => send(req, res, a));
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = limits.headersMs;
  // Each connection has its own deadlines: the runtime's shared check misses connections that stop
  // mid-headers when there are several, and one client must not hold a descriptor for ever.
  const open = new Set<Socket>();
  const headersDue = new Map<Socket, NodeJS.Timeout>();
  const awaitHeaders = (socket: Socket) => {
    clearTimeout(headersDue.get(socket));
    headersDue.set(
      socket,
      setTimeout(() => socket.destroy(), limits.headersMs),
    );
  };
  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections) {
      socket.on('error', () => {});
      socket.end(TOO_MANY);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    open.add(socket);
    socket.setTimeout(limits.idleMs, () => socket.destroy());
    awaitHeaders(socket);
    socket.on('close', () => {
      open.delete(socket);
      clearTimeout(headersDue.get(socket));
      headersDue.delete(socket);
    });
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    clearTimeout(headersDue.get(req.socket));
    res.on('finish', () => {
      if (!req.socket.destroyed) awaitHeaders(req.socket); // a kept-alive connection's next request
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

async function answer(req: IncomingMessage, routes: WatchRoutes): Promise<HttpAnswer> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') return routes.health();
  if (req.method === 'GET' && path === '/metrics') return routes.metrics();
  for (const route of routes.webhooks) {
    const rest =
      path === route.path
        ? ''
        : path?.startsWith(`${route.path}/`) && route.withName
          ? path.slice(route.path.length + 1)
          : null;
    if (rest === null || rest === undefined || rest.includes('/') || rest.length > 255) continue;
    let name: string | undefined;
    try {
      name = rest ? decodeURIComponent(rest) : undefined;
    } catch {
      return { status: 400, body: 'malformed path\n' };
    }
    if (req.method !== 'POST') return { status: 405, body: 'POST only\n' };
    const refused = route.refuse?.(req.headers);
    if (refused) return refused;
    const body = await readBody(req);
    if (body === null) return { status: 413, body: 'body too large\n' };
    if (body === 'busy')
      return { status: 503, body: 'busy: too many bodies in flight\n', headers: { 'retry-after': '5' } };
    return route.handle(body, req.headers, name);
  }
  return { status: 404, body: 'not found\n' };
}

/** Bytes held for request bodies across all connections at once: many slow uploads cannot add up. */
const MAX_BODY_BYTES_IN_FLIGHT = 16 * MAX_BODY_BYTES;
let bodyBytesInFlight = 0;

/**
 * The body, counted and capped as it streams, in one buffer that grows by doubling (a body sent a
 * byte at a time costs its bytes, not a million small buffers); null past the cap, 'busy' when the
 * listener already holds too many bytes of other bodies.
 */
function readBody(req: IncomingMessage): Promise<Buffer | null | 'busy'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) return resolve(null);
    let held = 0;
    const hold = (bytes: number) => {
      bodyBytesInFlight += bytes - held;
      held = bytes;
    };
    let buf = Buffer.alloc(0);
    let size = 0;
    let done = false;
    const finish = (result: Buffer | null | 'busy') => {
      if (done) return;
      done = true;
      hold(0);
      req.removeAllListeners('data');
      if (result === null || result === 'busy') req.pause(); // answered first, then the socket goes
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (size + chunk.length > MAX_BODY_BYTES) return finish(null);
      if (size + chunk.length > buf.length) {
        const grown = Math.min(MAX_BODY_BYTES, Math.max(16 * 1024, buf.length * 2, size + chunk.length));
        if (bodyBytesInFlight - held + grown > MAX_BODY_BYTES_IN_FLIGHT) return finish('busy');
        const next = Buffer.allocUnsafe(grown);
        buf.copy(next, 0, 0, size);
        buf = next;
        hold(grown);
      }
      chunk.copy(buf, size);
      size += chunk.length;
    });
    req.on('end', () => finish(buf.subarray(0, size)));
    req.on('error', (err) => {
      hold(0);
      done = true;
      reject(err);
    });
    req.on('close', () => hold(0));
  });
}

/** The answer; for a refused body (413, 503) it is sent whole, then the connection is closed. */
function send(req: IncomingMessage, res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent || res.destroyed) return;
  // A body left unread (refused on its headers, over the cap, busy) is not waited for: the answer
  // goes first, then the connection.
  const closing = a.status === 413 || !req.complete;
  res.writeHead(a.status, {
    'content-type': a.contentType ?? 'text/plain; charset=utf-8',
    ...(closing ? { connection: 'close' } : {}),
    ...a.headers,
  });
  res.end(a.body, () => {
    if (closing) req.socket.destroy();
  });
}
