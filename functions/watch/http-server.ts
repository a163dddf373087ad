// The watcher's HTTP face: GET /healthz, GET /metrics, POST /events/cloudstack (CloudStack's
// webhooks) and POST /events/minio (MinIO's audit webhook). Bodies are capped; nothing here waits on an
// audit: a webhook is answered once its event is spooled.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface WatchRoutes {
  health: () => HttpAnswer;
  metrics: () => Promise<HttpAnswer>;
  cloudstackWebhook: (body: Buffer, headers: IncomingMessage['headers']) => Promise<HttpAnswer>;
  /** MinIO's audit webhook; `/events/minio/<store>` names the store it comes from. */
  minioWebhook: (
    body: Buffer,
    headers: IncomingMessage['headers'],
    store: string | undefined,
  ) => Promise<HttpAnswer>;
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
  const minio = /^\/events\/minio(?:\/([^/]{1,255}))?$/.exec(path ?? '');
  if (path === '/events/cloudstack' || minio) {
    if (req.method !== 'POST') return { status: 405, body: 'POST only\n' };
    const body = await readBody(req);
    if (body === null) return { status: 413, body: 'body too large\n' };
    if (minio) return routes.minioWebhook(body, req.headers, minio[1] && decodeURIComponent(minio[1]));
    return routes.cloudstackWebhook(body, req.headers);
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
  res.writeHead(a.status, { 'content-type': a.contentType ?? 'text/plain; charset=utf-8' });
  res.end(a.body);
}
