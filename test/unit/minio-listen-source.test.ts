// MinIO's ListenNotification stream against a local server of its shape (minio internal/event record,
// as test/unit/store-feed-parsers.test.ts): a line without end is cut off at 64 KiB, counted, and
// the stream listened to again, never buffered until the process dies.
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MinioListenSource } from '../../functions/sources/minio-listen-source.js';
import { recordingContext } from '../support/source-context.js';
import { until } from '../support/until.js';

const record = (name: string) =>
  JSON.stringify({
    Records: [
      { eventName: 's3:BucketRemoved:Delete', eventTime: '2026-12-04T02:05:13Z', s3: { bucket: { name } } },
    ],
  });

describe("MinIO's ListenNotification stream", () => {
  const server = createServer();
  const answers: ServerResponse[] = [];
  let port = 0;
  beforeEach(async () => {
    answers.length = 0;
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      answers.push(res);
      req.socket.on('error', () => {}); // the source cuts the first stream off
      res.writeHead(200, { 'content-type': 'application/json' });
      if (answers.length === 1)
        res.write(Buffer.alloc(512 * 1024, 'x')); // a line that never ends
      else res.write(`${record('gone-1')}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('cuts a line without end at 64 KiB, counts it as malformed, and listens again', async () => {
    const source = new MinioListenSource({
      store: {
        id: 1,
        uuid: 'u-1',
        name: 'minio-1',
        provider: 'MinIO',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKey: 'AKID', secretKey: 'secret' },
        skip: false,
      },
      reconnectMs: 50,
    });
    const ctx = recordingContext();
    await source.start(ctx);
    try {
      await until('the event after the reset', () => ctx.events.length === 1);
      expect(ctx.dropped_).toEqual([{ reason: 'malformed', why: 'a line of more than 65536 bytes' }]);
      expect(ctx.events[0]?.event.target).toMatchObject({ kind: 'bucket', name: 'gone-1', store: 'u-1' });
      expect(answers).toHaveLength(2);
    } finally {
      await source.stop();
    }
  });
});
