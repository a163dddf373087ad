// A small S3-speaking server on loopback that answers ListBuckets as an attacker (or a badly broken
// store) would: names no bucket can have, bodies of hundreds of MiB, nesting without end, a trickle
// that never ends. Every request is counted; nothing it says is ever trusted.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type HostileAnswer = (req: IncomingMessage, res: ServerResponse) => void;

const LISTING_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>x</ID></Owner><Buckets>';
const LISTING_TAIL = '</Buckets></ListAllMyBucketsResult>';

export const bucketXml = (name: string) =>
  `<Bucket><Name>${name}</Name><CreationDate>2026-11-01T00:00:00.000Z</CreationDate></Bucket>`;

/** Writes `parts` as one answer, heeding back-pressure, so no answer is ever held whole. */
export function streamed(status: number, contentType: string, parts: Iterable<string>): HostileAnswer {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    const it = parts[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) return void res.end();
        if (!res.write(next.value)) return void res.once('drain', pump);
      }
    };
    res.on('error', () => {});
    pump();
  };
}

/** A listing whose bucket entries are written by `entries`. */
export function listing(entries: Iterable<string>): HostileAnswer {
  return streamed(
    200,
    'application/xml',
    (function* () {
      yield LISTING_HEAD;
      yield* entries;
      yield LISTING_TAIL;
    })(),
  );
}

/** A JSON answer streamed from `parts`, as RGW's admin API would send it. */
export function json(parts: Iterable<string>): HostileAnswer {
  return streamed(200, 'application/json', parts);
}

/** `count` chunks of `size` bytes of the same character, as one answer. */
export function* repeated(text: string, size: number, count: number): Generator<string> {
  const chunk = text.repeat(Math.ceil(size / text.length)).slice(0, size);
  for (let i = 0; i < count; i++) yield chunk;
}

export class HostileStore {
  answer: HostileAnswer = listing([]);
  requests = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.requests += 1;
      const url = req.url ?? '';
      // S3 ListBuckets, or RGW's admin listing when the store says it is Ceph: its one user owns
      // whatever the hostile answer lists, and the name listing the auditor checks it by is empty.
      if (req.method === 'GET' && url.startsWith('/admin/metadata/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          url.startsWith('/admin/metadata/user') ? '["hostile"]' : '{"keys":[],"truncated":"false"}',
        );
      }
      if (req.method === 'GET' && (url === '/' || url.startsWith('/?') || url.startsWith('/admin/bucket?')))
        return this.answer(req, res);
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>NoSuchBucket</Code></Error>');
    });
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
}
