// MinIO cannot run here. This plays its admin API (`/minio/admin/v3/…`) with the response shapes
// MinIO documents, refusing any request whose SigV4 signature does not verify, and forwards every
// other request (plain S3) to the live RGW, so the S3 half of the MinIO adapter meets a real store.
import { passThrough } from '../../functions/demo/pass-through.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { randomBytes } from 'node:crypto';
import { encryptMadmin } from '../../functions/stores/madmin-crypto.js';
import type { Keys } from './ceph.js';

const PREFIX = '/minio/admin/v3/';

/** MinIO's built-in policies, as `mc admin policy info` prints them (minio/minio internal/iam policy constants). */
export const MINIO_POLICIES = {
  consoleAdmin: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['admin:*'] },
      { Effect: 'Allow', Action: ['kms:*'] },
      { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] },
    ],
  },
  readwrite: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }],
  },
  readonly: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetObject'], Resource: ['arn:aws:s3:::*'] },
    ],
  },
} as const;

export interface MinioState {
  /** Bucket → quota in bytes (absent: no quota configured). */
  quotas: Map<string, number>;
  /** Bucket → usage as the data-usage scan last saw it. */
  usage: Map<string, { size: number; objectsCount: number }>;
  usageLastUpdate: string;
  /** User (access key) → attached policy names. */
  users: Map<string, string[]>;
  /** Canned policy name → policy document. */
  policies: Map<string, unknown>;
  /** Users whose status is `disabled` (every other user is enabled). */
  disabledUsers: Set<string>;
  /** Parent user → its service accounts. */
  serviceAccounts: Map<string, { accessKey: string; accountStatus: 'on' | 'off' }[]>;
  /** Group → its members, attached policies and status. */
  groups: Map<string, { members: string[]; policies: string[]; status: 'enabled' | 'disabled' }>;
}

export class MinioStandin {
  readonly state: MinioState = {
    quotas: new Map(),
    usage: new Map(),
    usageLastUpdate: new Date().toISOString(),
    users: new Map(),
    policies: new Map(),
    disabledUsers: new Set(),
    serviceAccounts: new Map(),
    groups: new Map(),
  };
  /** Encrypted answers so far: each takes the next of madmin's three algorithms, so all three are met. */
  private encrypted = 0;
  /** Admin calls seen, and how each was answered. */
  readonly adminCalls: { path: string; status: number }[] = [];
  /** Encrypt with this secret instead of the root's: what a client with other keys would be unable to read. */
  encryptWith?: string;
  /** Admin endpoints that answer with an error, e.g. `{ 'get-bucket-quota': 500 }`. */
  failing: Record<string, number> = {};
  private server?: Server;
  private readonly target: URL;

  constructor(
    target: string,
    private readonly root: Keys,
  ) {
    this.target = new URL(target);
  }

  get endpoint(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('stand-in not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://standin');
      if (req.url?.startsWith(PREFIX)) void this.admin(req, res);
      else if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('events'))
        void this.listen(req, res, url);
      else passThrough(req, res, { host: this.target.hostname, port: this.target.port });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.dropListeners();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Open ListenNotification streams. */
  get listeners(): number {
    return this.streams.size;
  }

  /**
   * One bucket event on every open ListenNotification stream, as MinIO writes it: one
   * `{"Records":[event]}` per line (cmd/listen-notification-handlers.go; the record's fields and
   * order from internal/event/event.go, values illustrative).
   */
  notifyBucket(eventName: 's3:BucketCreated:*' | 's3:BucketRemoved:*', bucket: string): void {
    const record = {
      eventVersion: '2.0',
      eventSource: 'minio:s3',
      awsRegion: '',
      eventTime: new Date().toISOString(),
      eventName,
      userIdentity: { principalId: this.root.accessKey },
      requestParameters: { principalId: this.root.accessKey, region: '', sourceIPAddress: '10.0.0.5' },
      responseElements: {
        'x-amz-request-id': '1823A0B1C2D3E4F5',
        'x-minio-origin-endpoint': 'http://10.0.0.10:9000',
      },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'Config',
        bucket: {
          name: bucket,
          ownerIdentity: { principalId: this.root.accessKey },
          arn: `arn:aws:s3:::${bucket}`,
        },
        object: { key: '', sequencer: '1823A0B1C2D3E4F5' },
      },
      source: { host: '10.0.0.5', port: '', userAgent: 'MinIO Console' },
    };
    for (const res of this.streams) res.write(`${JSON.stringify({ Records: [record] })}\n`);
  }

  /** Ends every open stream, as a restarting MinIO does. */
  dropListeners(): void {
    for (const res of this.streams) res.destroy();
    this.streams.clear();
  }

  private readonly streams = new Set<ServerResponse>();

  private async listen(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const refusal = await this.verify(req, url);
    if (refusal) {
      res.writeHead(403, { 'content-type': 'application/xml' }).end(`<Error><Code>${refusal}</Code></Error>`);
      return;
    }
    req.on('error', () => {}); // the watcher hanging up is how a stream ends
    res.writeHead(200, { 'content-type': 'application/json' });
    this.streams.add(res);
    const ping = Number(url.searchParams.get('ping') ?? 0);
    const timer = ping ? setInterval(() => res.write('{"Records":null}\n'), ping * 1000) : undefined;
    res.on('close', () => {
      clearInterval(timer);
      this.streams.delete(res);
    });
  }

  /** A policy as CloudStack's MinIO driver writes it: the account's buckets' objects. */
  static accountPolicy(buckets: string[]): unknown {
    return {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: buckets.map((b) => `arn:aws:s3:::${b}/*`) }],
    };
  }

  private async admin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const call = url.pathname.slice(PREFIX.length);
    const answer = (status: number, body: unknown) => {
      this.adminCalls.push({ path: call, status });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) =>
      answer(status, { Code: code, Message: message, Resource: url.pathname });
    const refusal = await this.verify(req, url);
    if (refusal) return error(403, refusal, 'The request signature we calculated does not match');
    if (this.failing[call]) return error(this.failing[call], 'XMinioAdminInternalError', 'injected failure');
    const bucket = url.searchParams.get('bucket') ?? '';
    switch (call) {
      case 'datausageinfo':
        return answer(200, {
          lastUpdate: this.state.usageLastUpdate,
          objectsCount: [...this.state.usage.values()].reduce((s, u) => s + u.objectsCount, 0),
          bucketsCount: this.state.usage.size,
          bucketsUsageInfo: Object.fromEntries(this.state.usage),
        });
      case 'get-bucket-quota': {
        const quota = this.state.quotas.get(bucket);
        if (quota === undefined)
          return error(404, 'XMinioAdminBucketQuotaConfigNotFound', 'No quota config found for the bucket');
        return answer(200, { quota, size: quota, rate: 0, requests: 0, quotatype: 'hard' });
      }
      case 'user-info': {
        const user = url.searchParams.get('accessKey') ?? '';
        const policies = this.state.users.get(user);
        if (!policies) return error(404, 'XMinioAdminNoSuchUser', 'The specified user does not exist');
        return answer(200, { policyName: policies.join(','), status: 'enabled', memberOf: null });
      }
      case 'list-canned-policies':
        return answer(200, Object.fromEntries(this.state.policies));
      // madmin-go ListUsers: map[accessKey]UserInfo, encrypted with the requester's secret key.
      case 'list-users':
        return this.answerEncrypted(
          call,
          res,
          Object.fromEntries(
            [...this.state.users].map(([name, policies]) => [
              name,
              {
                secretKey: `secret-of-${name}`,
                policyName: policies.join(','),
                status: this.state.disabledUsers.has(name) ? 'disabled' : 'enabled',
                memberOf: this.groupsOf(name),
                updatedAt: new Date().toISOString(),
              },
            ]),
          ),
        );
      // madmin-go ListAccessKeysBulk: map[parentUser]ListAccessKeysResp, encrypted.
      case 'list-access-keys-bulk':
        if (url.searchParams.get('listType') !== 'svcacc-only' || url.searchParams.get('all') !== 'true')
          return error(400, 'XMinioAdminInvalidArgument', 'unexpected listing');
        return this.answerEncrypted(
          call,
          res,
          Object.fromEntries(
            [...this.state.serviceAccounts].map(([parent, accounts]) => [
              parent,
              {
                serviceAccounts: accounts.map((a) => ({
                  parentUser: parent,
                  accountStatus: a.accountStatus,
                  impliedPolicy: true,
                  accessKey: a.accessKey,
                })),
                stsKeys: null,
              },
            ]),
          ),
        );
      // madmin-go ListGroups ([]string) and GetGroupDescription (GroupDesc): plain JSON.
      case 'groups':
        return answer(200, [...this.state.groups.keys()]);
      case 'group': {
        const name = url.searchParams.get('group') ?? '';
        const group = this.state.groups.get(name);
        if (!group) return error(404, 'XMinioAdminNoSuchGroup', 'The specified group does not exist');
        return answer(200, {
          name,
          status: group.status,
          members: group.members,
          policy: group.policies.join(','),
          updatedAt: new Date().toISOString(),
        });
      }
      default:
        return error(400, 'XMinioAdminInvalidArgument', `unknown admin call ${call}`);
    }
  }

  private groupsOf(user: string): string[] | null {
    const groups = [...this.state.groups].filter(([, g]) => g.members.includes(user)).map(([n]) => n);
    return groups.length ? groups : null;
  }

  /** An answer as MinIO sends its encrypted ones: madmin's EncryptData with the root's secret key. */
  private async answerEncrypted(call: string, res: ServerResponse, body: unknown): Promise<void> {
    const id = ([0, 1, 2] as const)[this.encrypted++ % 3] as 0 | 1 | 2;
    const sealed = await encryptMadmin(
      this.encryptWith ?? this.root.secretKey,
      Buffer.from(JSON.stringify(body)),
      randomBytes(32),
      randomBytes(8),
      id,
    );
    this.adminCalls.push({ path: call, status: 200 });
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(sealed);
  }

  /** Recomputes the request's SigV4 signature with the root keys; an error code when it does not match. */
  private async verify(req: IncomingMessage, url: URL): Promise<string | undefined> {
    const auth = String(req.headers.authorization ?? '');
    const m = /Credential=([^/]+)\/[^,]*, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)/.exec(auth);
    if (!m) return 'AccessDenied';
    const [, accessKey, signedHeaders, signature] = m as unknown as [string, string, string, string];
    if (accessKey !== this.root.accessKey) return 'InvalidAccessKeyId';
    const headers: Record<string, string> = {};
    for (const h of signedHeaders.split(';')) headers[h] = String(req.headers[h] ?? '');
    const amzDate = headers['x-amz-date'] ?? '';
    const signingDate = new Date(
      amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    const signer = new SignatureV4({
      credentials: { accessKeyId: this.root.accessKey, secretAccessKey: this.root.secretKey },
      region: 'us-east-1',
      service: 's3',
      sha256: Sha256,
    });
    const [hostname, port] = (headers.host ?? '').split(':');
    const expected = (await signer.sign(
      new HttpRequest({
        method: req.method ?? 'GET',
        protocol: 'http:',
        hostname: hostname ?? '',
        ...(port ? { port: Number(port) } : {}),
        path: url.pathname,
        query: queryOf(url),
        headers,
      }),
      { signingDate },
    )) as HttpRequest;
    const got = /Signature=([0-9a-f]+)/.exec(String(expected.headers.authorization ?? ''))?.[1];
    return got === signature ? undefined : 'SignatureDoesNotMatch';
  }
}

/** The query with repeated keys kept (ListenNotification repeats `events`). */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    query[key] = all.length > 1 ? all : (all[0] as string);
  }
  return query;
}
