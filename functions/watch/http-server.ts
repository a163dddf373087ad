// The watcher's HTTP face: GET /healthz, GET /metrics, and the routes of its webhook sources
// (POST /events/cloudstack, POST /events/minio[/<store>]), each source bringing its own. Bodies are
// capped; nothing here waits on an audit: a webhook is answered once its event is spooled.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { HttpAnswer, WebhookRoute } from '../sources/change-source.js';

export type { HttpAnswer } from '../sources/change-source.js';

export interface WatchRoutes {
  health: () => HttpAnswer;
  metrics: () => Promise<HttpAnswer>;
  /** The webhook sources' routes, as they are configured. */
  webhooks: WebhookRoute[];
}

const MAX_BODY_BYTES = 1024 * 1024; // CloudStack's event JSON is under 2 KiB

export async function startHttpServer(listen: string, routes: WatchRoutes): Promise<Server> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(listen.slice(at + 1));
  const server = createServer((req, res) => {
    answer(req, routes)
      .catch((): HttpAnswer => ({ status: 500, body: 'internal error\n' }))
      .then((a) => send(res, a));
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
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
    const body = await readBody(req);
    if (body === null) return { status: 413, body: 'body too large\n' };
    return route.handle(body, req.headers, name);
  }
  return { status: 404, body: 'not found\n' };
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(a.status, { 'content-type': a.contentType ?? 'text/plain; charset=utf-8', ...a.headers });
  res.end(a.body);
}
