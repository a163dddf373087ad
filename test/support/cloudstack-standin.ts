// Plays the CloudStack management server's API for remediation tests: verifies each request's
// signature as ApiServer does, and answers deleteBucket (async), queryAsyncJobResult and
// updateBucket. Like the real store drivers (apache/cloudstack#10410), deleteBucket fails when the
// store lacks the bucket; otherwise it deletes it in the store and soft-deletes the row. updateBucket
// applies versioning to the store with the owner's keys, as the Ceph driver does, and records it.
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { encodeValue } from '../../functions/cloudstack/api-signing.js';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { radosgwAdmin } from './ceph.js';
import { s3For } from './cloud.js';

export class CloudStackStandIn {
  readonly calls: { command: string; signatureValid: boolean }[] = [];
  private readonly jobs = new Map<string, { jobstatus: number; jobresult: Record<string, unknown> }>();
  private server?: Server;

  constructor(
    private readonly keys: { apiKey: string; secretKey: string },
    private readonly db: Connection,
    private readonly cephConf: string,
    /** The RGW S3 endpoint, for the store-side half of updateBucket. */
    private readonly s3Endpoint = '',
    /**
     * Told of each finished deleteBucket as CloudStack's ActionEventInterceptor records it: a
     * BUCKET.DELETE event, `Error while deleting bucket` when the job failed. The auditor's own
     * calls raise them too, as in CloudStack.
     */
    private readonly onDeleteEvent?: (e: {
      bucketId: number;
      bucketUuid: string;
      failed: boolean;
    }) => Promise<void>,
  ) {}

  /** UpdateBucketCmd is synchronous: the driver call, then the row. Only versioning is played. */
  private async updateBucket(params: Map<string, string>): Promise<[number, Record<string, unknown>]> {
    const [rows] = await this.db.query<RowDataPacket[]>(
      `SELECT b.id, b.name, k.value AS accessKey, s.value AS secretKey FROM bucket b
         JOIN account_details k ON k.account_id = b.account_id AND k.name = 'ceph-rgw-accesskey'
         JOIN account_details s ON s.account_id = b.account_id AND s.name = 'ceph-rgw-secretkey'
        WHERE b.uuid = ? AND b.removed IS NULL`,
      [params.get('id')],
    );
    const row = rows[0];
    if (!row) return [431, { errorcode: 431, errortext: 'Unable to find bucket with specified id' }];
    const versioning = params.get('versioning');
    if (versioning === undefined || ['encryption', 'policy', 'quota'].some((p) => params.has(p)))
      return [530, { errorcode: 530, errortext: 'the stand-in plays updateBucket for versioning only' }];
    const s3 = s3For(this.s3Endpoint, { accessKey: String(row.accessKey), secretKey: String(row.secretKey) });
    try {
      const Status = versioning === 'true' ? 'Enabled' : 'Suspended';
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: String(row.name), VersioningConfiguration: { Status } }),
      );
    } finally {
      s3.destroy();
    }
    await this.db.query('UPDATE bucket SET versioning = ? WHERE id = ?', [versioning === 'true', row.id]);
    return [200, { success: 'true' }];
  }

  get apiUrl(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('not started');
    return `http://127.0.0.1:${address.port}/client/api`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res).catch(() => res.destroy()));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** ApiServer.verifyRequest: every received parameter but the signature, re-encoded, sorted, lower-cased, HMAC-SHA1. */
  private verify(raw: string): { params: Map<string, string>; valid: boolean } {
    const params = new Map<string, string>();
    let signature = '';
    for (const pair of raw.split('&')) {
      const [name = '', value = ''] = pair.split('=');
      const decoded = decodeURIComponent(value.replace(/\+/g, ' '));
      if (name.toLowerCase() === 'signature') signature = decoded;
      else params.set(name, decoded);
    }
    const canonical = [...params.entries()]
      .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
      .map(([k, v]) => `${k}=${encodeValue(v)}`)
      .join('&')
      .toLowerCase();
    const expected = createHmac('sha1', this.keys.secretKey).update(canonical).digest('base64');
    const lower = new Map([...params].map(([k, v]) => [k.toLowerCase(), v]));
    const fresh =
      !lower.get('expires') || Date.parse(lower.get('expires')?.replace('+0000', 'Z') ?? '') > Date.now();
    return {
      params: lower,
      valid: expected === signature && lower.get('apikey') === this.keys.apiKey && fresh,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (req.url ?? '').split('?')[1] ?? '';
    const { params, valid } = this.verify(raw);
    const command = params.get('command') ?? '';
    this.calls.push({ command, signatureValid: valid });
    const reply = (status: number, body: Record<string, unknown>) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ [`${command.toLowerCase()}response`]: body }));
    };
    if (!valid)
      return reply(401, {
        errorcode: 401,
        errortext: 'unable to verify user credentials and/or request signature',
      });
    if (command === 'queryAsyncJobResult') {
      const job = this.jobs.get(params.get('jobid') ?? '');
      return job
        ? reply(200, { jobid: params.get('jobid'), ...job })
        : reply(431, { errorcode: 431, errortext: 'no such job' });
    }
    if (command === 'updateBucket') return reply(...(await this.updateBucket(params)));
    if (command !== 'deleteBucket')
      return reply(432, { errorcode: 432, errortext: `The given command does not exist: ${command}` });
    const [rows] = await this.db.query<RowDataPacket[]>(
      'SELECT id, name, removed FROM bucket WHERE uuid = ?',
      [params.get('id')],
    );
    const row = rows[0];
    if (!row || row.removed)
      return reply(431, { errorcode: 431, errortext: 'Unable to find bucket with specified id' });
    const jobid = randomUUID();
    const buckets = JSON.parse(await radosgwAdmin(this.cephConf, ['bucket', 'list'])) as string[];
    const failed = !buckets.includes(String(row.name));
    if (failed) {
      this.jobs.set(jobid, {
        jobstatus: 2,
        jobresult: { errorcode: 530, errortext: `Bucket doesn't exist: ${String(row.name)}` },
      });
    } else {
      await radosgwAdmin(this.cephConf, ['bucket', 'rm', `--bucket=${String(row.name)}`, '--purge-objects']);
      await this.db.query('UPDATE bucket SET removed = UTC_TIMESTAMP() WHERE id = ?', [row.id]);
      this.jobs.set(jobid, { jobstatus: 1, jobresult: { success: true } });
    }
    await this.onDeleteEvent?.({ bucketId: Number(row.id), bucketUuid: String(params.get('id')), failed });
    return reply(200, { jobid });
  }
}
