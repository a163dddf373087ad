// A TCP relay that drops both sides of a connection once the server has sent a given number of
// bytes: a database connection lost in the middle of a result set.
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';

export class TcpCutter {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections cut so far. */
  cuts = 0;

  constructor(
    private readonly target: { host: string; port: number },
    /** Bytes from the server after which each connection is dropped (Infinity: never). */
    public cutAfter: number,
  ) {}

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('not started');
    return address.port;
  }

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      let sent = 0;
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (sent + chunk.length > this.cutAfter) {
          client.write(chunk.subarray(0, Math.max(0, this.cutAfter - sent)));
          this.cuts++;
          client.destroy();
          upstream.destroy();
          return;
        }
        sent += chunk.length;
        client.write(chunk);
      });
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
