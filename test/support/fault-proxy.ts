// An HTTP proxy in front of the live RGW that injects faults per request. Signatures stay valid:
// requests are forwarded byte for byte with their Host header.
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; code: string }
  | { kind: 'hang' }
  /** Answered, but only after the client's timeout has passed. */
  | { kind: 'slow'; ms: number }
  | { kind: 'reset' }
  | { kind: 'truncate' }
  /** Half the answer, then silence with the connection open. */
  | { kind: 'stall' }
  /** Answered whole, in `pieces` parts `ms` apart: slow in total, never silent for long. */
  | { kind: 'trickle'; pieces: number; ms: number }
  /** A made-up answer instead of the store's: a 200 whose body is not the document asked for, say. */
  | { kind: 'answer'; status: number; body: string; contentType: string }
  /** A well-formed listing with one bucket left out (the `drop`-th, modulo its length): a store that lies, not one that breaks. */
  | { kind: 'shorten'; drop: number };

export type FaultPlan = (req: IncomingMessage, index: number) => Fault | null;

export const faults = {
  slowDown: { kind: 'status', status: 503, code: 'SlowDown' },
  internalError: { kind: 'status', status: 500, code: 'InternalError' },
  accessDenied: { kind: 'status', status: 403, code: 'AccessDenied' },
  hang: { kind: 'hang' },
  reset: { kind: 'reset' },
  truncate: { kind: 'truncate' },
  stall: { kind: 'stall' },
  shorten: { kind: 'shorten', drop: -1 },
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
    if (fault?.kind === 'slow') {
      setTimeout(() => this.forward(req, res), fault.ms).unref();
      return;
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'answer') {
      res.writeHead(fault.status, {
        'content-type': fault.contentType,
        'content-length': Buffer.byteLength(fault.body),
      });
      res.end(fault.body);
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
    this.forward(
      req,
      res,
      fault?.kind === 'truncate'
        ? cutInHalf
        : fault?.kind === 'shorten'
          ? dropBucket(fault.drop)
          : fault?.kind === 'trickle'
            ? fault
            : fault?.kind === 'stall'
              ? { pieces: 2, ms: 2 ** 31 - 1 }
              : null,
    );
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    rewrite: BodyRewrite | Trickle | null = null,
  ): void {
    if (res.destroyed || req.socket.destroyed) return;
    const upstream = httpRequest(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        // A fresh connection per request: a reused one to a stock RGW waits 40 ms per answer (Nagle).
        agent: false,
      },
      (up) => this.relay(up, res, rewrite),
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private relay(up: IncomingMessage, res: ServerResponse, rewrite: BodyRewrite | Trickle | null): void {
    if (rewrite && 'pieces' in rewrite) {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(up.statusCode ?? 502, up.headers);
        const size = Math.ceil(body.length / rewrite.pieces);
        const send = (i: number) => {
          if (res.destroyed) return;
          if (i * size >= body.length) return void res.end();
          res.write(body.subarray(i * size, (i + 1) * size));
          setTimeout(() => send(i + 1), rewrite.ms).unref();
        };
        send(0);
      });
      return;
    }
    if (!rewrite) {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    up.on('data', (c: Buffer) => chunks.push(c));
    up.on('end', () => {
      const headers = { ...up.headers };
      delete headers['content-length'];
      res.writeHead(up.statusCode ?? 502, headers);
      res.end(rewrite(Buffer.concat(chunks)));
    });
  }
}

type BodyRewrite = (body: Buffer) => Buffer;
type Trickle = { pieces: number; ms: number };

/** A listing cut short, ended cleanly. */
const cutInHalf: BodyRewrite = (body) => body.subarray(0, Math.floor(body.length / 2));

/** The RGW admin listing (a JSON array) or an S3 ListBuckets (XML) without one bucket, still well-formed. */
function dropBucket(drop: number): BodyRewrite {
  return (body) => {
    const text = body.toString('utf8');
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.length) {
        const at = ((drop % parsed.length) + parsed.length) % parsed.length;
        return Buffer.from(JSON.stringify(parsed.filter((_, i) => i !== at)));
      }
    } catch {
      const starts = [...text.matchAll(/<Bucket>/g)].map((m) => m.index);
      if (starts.length) {
        const start = starts[((drop % starts.length) + starts.length) % starts.length] as number;
        const end = text.indexOf('</Bucket>', start) + '</Bucket>'.length;
        return Buffer.from(text.slice(0, start) + text.slice(end));
      }
    }
    return body;
  };
}
