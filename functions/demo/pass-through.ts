// A request passed on unchanged (method, path, headers and body, so a SigV4 signature still holds)
// to another HTTP server, and its answer streamed back; either side failing ends the other.
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function passThrough(
  req: IncomingMessage,
  res: ServerResponse,
  target: { host: string; port: number | string },
): void {
  const upstream = httpRequest(
    { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      answer.on('error', () => res.destroy());
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
