// The demo's store is s3rver, registered in CloudStack as MinIO. s3rver has no admin API, so without
// this shim MinIO's data usage (and with it every size at stake) would be missing from the demo.
// The shim answers `GET /minio/admin/v3/datausageinfo` in the shape MinIO's madmin package writes
// (DataUsageInfo: lastUpdate, objectsCount, bucketsCount, bucketsUsageInfo{size, objectsCount}),
// computed by listing s3rver, and passes every other request through to s3rver unchanged.
// Loopback only and for the demo's lifetime: it checks no signature.
import type { Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { passThrough } from './pass-through.js';
import { CsdriftError } from '../core/errors.js';

const USAGE_PATH = '/minio/admin/v3/datausageinfo';

export class DemoUsageShim {
  private server?: Server;

  constructor(
    private readonly s3rverPort: number,
    private readonly s3: S3Client,
  ) {}

  get endpoint(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new CsdriftError('usage shim not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === USAGE_PATH) void this.usage(res);
      else passThrough(req, res, { host: '127.0.0.1', port: this.s3rverPort });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async usage(res: ServerResponse): Promise<void> {
    try {
      const usage: Record<string, { size: number; objectsCount: number }> = {};
      const { Buckets = [] } = await this.s3.send(new ListBucketsCommand({}));
      for (const { Name } of Buckets) {
        if (!Name) continue;
        const totals = { size: 0, objectsCount: 0 };
        let token: string | undefined;
        do {
          const page = await this.s3.send(
            new ListObjectsV2Command({ Bucket: Name, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? []) {
            totals.size += o.Size ?? 0;
            totals.objectsCount += 1;
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        usage[Name] = totals;
      }
      const body = {
        lastUpdate: new Date().toISOString(),
        objectsCount: Object.values(usage).reduce((sum, u) => sum + u.objectsCount, 0),
        bucketsCount: Object.keys(usage).length,
        bucketsUsageInfo: usage,
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ Code: 'XMinioAdminInternalError', Message: message }));
    }
  }
}
