// An HTTP proxy in front of the live RGW that injects faults per request. Signatures stay valid:
// requests are forwarded byte for byte with their Host header.
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; code: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'truncate' };

export type FaultPlan = (req: IncomingMessage, index: number) => Fault | null;

export const faults = {
  slowDown: { kind: 'status', status: 503, code: 'SlowDown' },
  internalError: { kind: 'status', status: 500, code: 'InternalError' },
  accessDenied: { kind: 'status', status: 403, code: 'AccessDenied' },
  hang: { kind: 'hang' },
  reset: { kind: 'reset' },
  truncate: { kind: 'truncate' },
} satisfies Record<string, Fault>;

export class FaultProxy {
  plan: FaultPlan = () => null;
  requests: { method: string; url: string; fault: Fault | null }[] = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private readonly target: URL;

  constructor(target: string) {
    this.target = new URL(target);
  }

  get endpoint(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('proxy not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const fault = this.plan(req, this.requests.length);
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', fault });
    if (fault?.kind === 'hang') return; // never answer; the client's timeout must fire
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`;
      res.writeHead(fault.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => this.relay(up, res, fault?.kind === 'truncate'),
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private relay(up: IncomingMessage, res: ServerResponse, truncate: boolean): void {
    if (!truncate) {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    up.on('data', (c: Buffer) => chunks.push(c));
    up.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...up.headers };
      delete headers['content-length'];
      res.writeHead(up.statusCode ?? 502, headers);
      res.end(body.subarray(0, Math.floor(body.length / 2))); // a listing cut short, ended cleanly
    });
  }
}
