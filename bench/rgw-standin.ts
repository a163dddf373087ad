// A stand-in for a Ceph RGW's admin ops API over a generated store of any size: n buckets spread
// round-robin over the given users, answered with documents of the size RGW 16 really returns (a
// stats listing entry of about 750 bytes with its shard markers, placement and usage; bucket-instance
// metadata of about 1.7 KB with its ACL attribute), made from templates at little cost of its own,
// so that what a benchmark measures is the auditor. Signatures are not checked. Shapes: the live
// RGW's own answers (bench/rgw-standin.ts was written from `GET /admin/bucket?uid=&stats=true`,
// `GET /admin/metadata/bucket.instance` and `GET /admin/user` of the test harness's RGW).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { scaleBucketName } from './scale-cloud.js';

const ZONEGROUP = 'ad7224e0-1e14-4b40-9c6c-dee90bb2588a';
const ZONE_ID = '852ad0f9-ebd1-4231-802a-ce7938169043.4110';
const SHARDS = 11;
const shardList = (value: string) => Array.from({ length: SHARDS }, (_, i) => `${i}#${value}`).join(',');
const VER = shardList('1');
const MASTER_VER = shardList('0');
const MAX_MARKER = shardList('');
/** An ACL attribute as RGW stores it (RGWAccessControlPolicy, base64): owner, grants, display names. */
const ACL = Buffer.alloc(760, 0x41).toString('base64');
const BASE_MTIME = Date.parse('2026-11-01T00:00:00Z');
const PAGE_DEFAULT = 1000;

export interface StandinStore {
  /** The owners' uids (in CloudStack's Ceph driver, the account uuids); bucket i belongs to uids[i % length]. */
  uids: string[];
  /** Buckets bench-0000000 … of the store. */
  buckets: number;
  /** More buckets, by name, owned by uids[1]: none of them has a CloudStack row. */
  strays: string[];
  /** Buckets whose store-side versioning is on. */
  versioned: Set<number>;
}

export class RgwStandin {
  requests = 0;
  private server?: Server;
  /** Per bucket index, how many times it was changed (each change moves its mtime). */
  private readonly changes = new Map<number, number>();
  private readonly userIndex: Map<string, number>;

  constructor(private readonly store: StandinStore) {
    this.userIndex = new Map(store.uids.map((uid, u) => [uid, u]));
  }

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the stand-in is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Changes bucket i behind CloudStack's back: versioning flipped, its instance (and mtime) moved. */
  change(i: number): void {
    this.changes.set(i, (this.changes.get(i) ?? 0) + 1);
    if (this.store.versioned.has(i)) this.store.versioned.delete(i);
    else this.store.versioned.add(i);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    const url = new URL(req.url ?? '/', 'http://standin');
    const q = url.searchParams;
    const path = url.pathname;
    if (req.method === 'HEAD') return void this.head(path.slice(1), res);
    if (path === '/admin/metadata/user')
      return json(
        res,
        page(this.store.uids.length, (i) => this.store.uids[i] as string, q),
      );
    if (path === '/admin/metadata/bucket') {
      const names = this.allNames();
      return json(res, page(names.length, names.at, q));
    }
    if (path === '/admin/bucket' && q.get('uid') !== null) return this.userListing(q.get('uid') ?? '', res);
    if (path === '/admin/bucket' && q.get('bucket')) {
      const i = this.indexOf(q.get('bucket') ?? '');
      if (i === null) return notFound(res, 'NoSuchBucket');
      return text(res, this.entry(i));
    }
    if (path === '/admin/metadata/bucket.instance') {
      const [name] = (q.get('key') ?? '').split(':');
      const i = this.indexOf(name ?? '');
      if (i === null) return notFound(res, 'NoSuchKey');
      return text(res, this.instance(i));
    }
    if (path === '/admin/user') {
      const uid = q.get('uid') ?? '';
      return text(res, userDocument(uid));
    }
    return notFound(res, 'NoSuchBucket');
  }

  private allNames(): { length: number; at: (i: number) => string } {
    const { buckets, strays } = this.store;
    return {
      length: buckets + strays.length,
      at: (i) => (i < buckets ? scaleBucketName(i) : (strays[i - buckets] as string)),
    };
  }

  /** The bucket index of a name, a stray's as buckets + its place, or null when the store lacks it. */
  private indexOf(name: string): number | null {
    const m = /^bench-(\d{7})$/.exec(name);
    if (m) {
      const i = Number(m[1]);
      return i < this.store.buckets ? i : null;
    }
    const stray = this.store.strays.indexOf(name);
    return stray < 0 ? null : this.store.buckets + stray;
  }

  private nameOf(i: number): string {
    return this.allNames().at(i);
  }

  private ownerOf(i: number): string {
    const { uids, buckets } = this.store;
    return i < buckets ? (uids[i % uids.length] as string) : (uids[1 % uids.length] as string);
  }

  private head(name: string, res: ServerResponse): void {
    res.writeHead(this.indexOf(decodeURIComponent(name)) === null ? 404 : 200, { 'content-length': '0' });
    res.end();
  }

  private userListing(uid: string, res: ServerResponse): void {
    const { uids, buckets } = this.store;
    const u = this.userIndex.get(uid);
    res.writeHead(200, { 'content-type': 'application/json' });
    if (u === undefined) return void res.end('[]');
    const mine: number[] = [];
    for (let i = u; i < buckets; i += uids.length) mine.push(i);
    if (u === 1 % uids.length) for (let s = 0; s < this.store.strays.length; s++) mine.push(buckets + s);
    // Written in pieces with back-pressure, as RGW streams it: a user's listing is never held whole.
    let at = 0;
    res.write('[');
    const pump = (): void => {
      while (at < mine.length) {
        const piece = (at ? ',' : '') + this.entry(mine[at] as number);
        at += 1;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end(']');
    };
    pump();
  }

  private mtime(i: number): string {
    const changed = this.changes.get(i) ?? 0;
    return new Date(BASE_MTIME + i + changed * 86_400_000).toISOString().replace('Z', '123Z');
  }

  /** One stats listing entry, as `GET /admin/bucket?stats=true` gives it (about 750 bytes). */
  private entry(i: number): string {
    const name = this.nameOf(i);
    const id = `${ZONE_ID}.${i + 1}`;
    return `{"bucket":"${name}","num_shards":${SHARDS},"tenant":"","zonegroup":"${ZONEGROUP}","placement_rule":"default-placement","explicit_placement":{"data_pool":"","data_extra_pool":"","index_pool":""},"id":"${id}","marker":"${id}","index_type":"Normal","owner":"${this.ownerOf(i)}","ver":"${VER}","master_ver":"${MASTER_VER}","mtime":"${this.mtime(i)}","creation_time":"2026-10-01T00:00:00.000000Z","max_marker":"${MAX_MARKER}","usage":{},"bucket_quota":{"enabled":false,"check_on_raw":false,"max_size":-1,"max_size_kb":0,"max_objects":-1}}`;
  }

  /** `GET /admin/metadata/bucket.instance`: the instance with its flags and ACL (about 1.7 KB). */
  private instance(i: number): string {
    const name = this.nameOf(i);
    const id = `${ZONE_ID}.${i + 1}`;
    const flags = this.store.versioned.has(i) ? 2 : 0;
    return `{"key":"bucket.instance:${name}:${id}","ver":{"tag":"_cxB19fMV7C6mAaNB1sII4Jn","ver":${1 + (this.changes.get(i) ?? 0)}},"mtime":"${this.mtime(i)}","data":{"bucket_info":{"bucket":{"name":"${name}","marker":"${id}","bucket_id":"${id}","tenant":"","explicit_placement":{"data_pool":"","data_extra_pool":"","index_pool":""}},"creation_time":"2026-10-01T00:00:00.000000Z","owner":"${this.ownerOf(i)}","flags":${flags},"zonegroup":"${ZONEGROUP}","placement_rule":"default-placement","has_instance_obj":"true","quota":{"enabled":false,"check_on_raw":false,"max_size":-1,"max_size_kb":0,"max_objects":-1},"num_shards":${SHARDS},"bi_shard_hash_type":0,"requester_pays":"false","has_website":"false","swift_versioning":"false","swift_ver_location":"","index_type":0,"mdsearch_config":[],"reshard_status":0,"new_bucket_instance_id":""},"attrs":[{"key":"user.rgw.acl","val":"${ACL}"}]}}`;
  }
}

/** A metadata listing page: `max-entries` keys from `marker` (an index here), in RGW's paged shape. */
function page(count: number, at: (i: number) => string, q: URLSearchParams): unknown {
  const size = Number(q.get('max-entries') ?? PAGE_DEFAULT) || PAGE_DEFAULT;
  const from = Number(q.get('marker') ?? 0) || 0;
  const keys: string[] = [];
  for (let i = from; i < Math.min(count, from + size); i++) keys.push(at(i));
  const truncated = from + size < count;
  return {
    keys,
    truncated: truncated ? 'true' : 'false',
    count: keys.length,
    ...(truncated ? { marker: String(from + size) } : {}),
  };
}

/** A user's one access key, as CloudStack also records it on the rows of the user's buckets. */
export function standinAccessKey(uid: string): string {
  return `AK${uid.slice(0, 16)}`;
}

function userDocument(uid: string): string {
  return `{"tenant":"","user_id":"${uid}","display_name":"${uid}","email":"","suspended":0,"max_buckets":1000,"subusers":[],"keys":[{"user":"${uid}","access_key":"${standinAccessKey(uid)}","secret_key":"not-a-secret"}],"swift_keys":[],"caps":[],"op_mask":"read, write, delete","system":"false","admin":"false","default_placement":"","default_storage_class":"","placement_tags":[],"bucket_quota":{"enabled":false,"check_on_raw":false,"max_size":-1,"max_size_kb":0,"max_objects":-1},"user_quota":{"enabled":false,"check_on_raw":false,"max_size":-1,"max_size_kb":0,"max_objects":-1},"temp_url_keys":[],"type":"rgw","mfa_ids":[]}`;
}

function json(res: ServerResponse, body: unknown): void {
  text(res, JSON.stringify(body));
}

function text(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function notFound(res: ServerResponse, code: string): void {
  const body = `{"Code":"${code}"}`;
  res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The stand-in in a process of its own, so that neither the audit nor the floor shares its thread
 * with it: `fork` this file with `--standin` and send it `{ store }`; it answers `{ endpoint }` once
 * listening, and takes `{ change: [i…] }` and `{ count: true }` (answering `{ requests }`, then
 * resetting the count).
 */
export type StandinMessage = { change: number[] } | { count: true } | { stop: true };

if (process.send && process.argv.includes('--standin')) {
  let standin: RgwStandin | undefined;
  process.on('message', (message: StandinMessage | { store: StandinStore & { versioned: number[] } }) => {
    if ('store' in message) {
      const store = { ...message.store, versioned: new Set(message.store.versioned) };
      void new RgwStandin(store).start().then((started) => {
        standin = started;
        process.send?.({ endpoint: started.endpoint });
      });
      return;
    }
    if (!standin) return;
    if ('change' in message) {
      for (const i of message.change) standin.change(i);
      process.send?.({ changed: message.change.length });
    }
    if ('count' in message) {
      process.send?.({ requests: standin.requests });
      standin.requests = 0;
    }
    if ('stop' in message) void standin.stop().then(() => process.exit(0));
  });
}
