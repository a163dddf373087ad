// Accounts and buckets made the way CloudStack makes them on Ceph: one RGW user per account whose
// uid is the account uuid, its keys in account_details, buckets created with those keys.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { SeedAccount, SeedDomain, SeedStore } from '../../functions/demo/cloudstack-seed.js';
import { CloudStackSeed } from '../../functions/demo/cloudstack-seed.js';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';
import type { CephCluster, Keys } from './ceph.js';
import { createRgwUser, ensurePlainAdmin } from './ceph.js';

export interface CephAccount extends SeedAccount {
  keys: Keys;
}

/** What a test may set on a bucket row beyond its name, store and owner. */
export type BucketRow = Omit<Parameters<CloudStackSeed['bucket']>[0], 'name' | 'store' | 'account'>;

export function s3For(endpoint: string, keys: Keys): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A unique bucket name: all test files share one cluster. */
export function bucketName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`.toLowerCase();
}

export class CephCloud {
  readonly seed: CloudStackSeed;
  private root?: SeedDomain;
  readonly clients: S3Client[] = [];

  constructor(
    readonly ceph: CephCluster,
    readonly database: ThrowawayDatabase,
  ) {
    this.seed = new CloudStackSeed(database.conn);
  }

  async rootDomain(): Promise<SeedDomain> {
    this.root ??= await this.seed.domain('ROOT');
    return this.root;
  }

  /** The store as CloudStack records it: the RGW URL and the admin's keys in object_store_details. */
  async store(
    name: string,
    admin: Keys = this.ceph.systemAdmin,
    url = this.ceph.endpoint,
  ): Promise<SeedStore> {
    if (admin.accessKey === this.ceph.plainAdmin.accessKey) await ensurePlainAdmin(this.ceph.conf, admin);
    return this.seed.store({ name, provider: 'Ceph', url, ...admin });
  }

  async account(name: string, options: { removed?: Date; domain?: SeedDomain } = {}): Promise<CephAccount> {
    const account = await this.seed.account(name, options.domain ?? (await this.rootDomain()), options);
    const keys = await this.rgwUser(account.uuid, name);
    await this.seed.accountDetail(account, 'ceph-rgw-accesskey', keys.accessKey);
    await this.seed.accountDetail(account, 'ceph-rgw-secretkey', keys.secretKey);
    return { ...account, keys };
  }

  async project(name: string): Promise<CephAccount & { projectUuid: string }> {
    const account = await this.seed.project(name, await this.rootDomain());
    const keys = await this.rgwUser(account.uuid, name);
    await this.seed.accountDetail(account, 'ceph-rgw-accesskey', keys.accessKey);
    await this.seed.accountDetail(account, 'ceph-rgw-secretkey', keys.secretKey);
    return { ...account, keys };
  }

  private rgwUser(uid: string, displayName: string): Promise<Keys> {
    return createRgwUser(this.ceph.conf, uid, displayName);
  }

  async createInStore(name: string, owner: Keys): Promise<void> {
    await this.client(owner).send(new CreateBucketCommand({ Bucket: name }));
  }

  async deleteInStore(name: string, owner: Keys): Promise<void> {
    await this.client(owner).send(new DeleteBucketCommand({ Bucket: name }));
  }

  /** A bucket CloudStack created: in the store with the owner's keys, and a row in state Created. */
  async bucket(name: string, store: SeedStore, owner: CephAccount, row: BucketRow = {}) {
    await this.createInStore(name, owner.keys);
    return this.seed.bucket({
      name,
      store,
      account: owner,
      accessKey: owner.keys.accessKey,
      secretKey: owner.keys.secretKey,
      ...row,
    });
  }

  /** The seed case: a bucket CloudStack created, then deleted in the store behind its back. */
  async bucketDeletedInStore(
    name: string,
    store: SeedStore,
    owner: CephAccount,
    row: { created?: Date } = {},
  ) {
    const created = await this.bucket(name, store, owner, row);
    await this.deleteInStore(name, owner.keys);
    return created;
  }

  /** An S3 client with these keys, closed with the cloud. */
  client(keys: Keys): S3Client {
    const client = s3For(this.ceph.endpoint, keys);
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await this.database.drop();
  }
}
