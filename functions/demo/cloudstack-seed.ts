// Writes rows the way CloudStack's management server writes them. Used by `csdrift demo` and the tests.
import { randomUUID } from 'node:crypto';
import type { Connection, ResultSetHeader } from 'mysql2/promise';

export interface SeedDomain {
  id: number;
  uuid: string;
  path: string;
}
export interface SeedAccount {
  id: number;
  uuid: string;
  name: string;
  domain: SeedDomain;
}
export interface SeedStore {
  id: number;
  uuid: string;
  name: string;
  /** object_store.url: CloudStack's drivers set each bucket's bucket_url to it + "/" + the name. */
  url: string;
}

const HOUR = 3_600_000;

/** MySQL DATETIME text in UTC, as CloudStack stores it. */
export function sqlTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

export function hoursAgo(hours: number, now = new Date()): Date {
  return new Date(now.getTime() - hours * HOUR);
}

export class CloudStackSeed {
  constructor(private readonly conn: Connection) {}

  private async insert(table: string, row: Record<string, unknown>): Promise<number> {
    const [res] = await this.conn.query<ResultSetHeader>(`INSERT INTO \`${table}\` SET ?`, [row]);
    return res.insertId;
  }

  async domain(name: string, parent?: SeedDomain): Promise<SeedDomain> {
    const uuid = randomUUID();
    const path = parent ? `${parent.path}${name}/` : '/';
    const id = await this.insert('domain', {
      name,
      uuid,
      path,
      parent: parent?.id ?? null,
      owner: 1,
      level: parent ? path.split('/').length - 2 : 0,
      created: sqlTime(hoursAgo(24 * 400)),
    });
    return { id, uuid, path };
  }

  async account(
    name: string,
    domain: SeedDomain,
    options: { type?: number; removed?: Date } = {},
  ): Promise<SeedAccount> {
    const uuid = randomUUID();
    const id = await this.insert('account', {
      account_name: name,
      uuid,
      type: options.type ?? 0,
      domain_id: domain.id,
      state: options.removed ? 'removed' : 'enabled',
      created: sqlTime(hoursAgo(24 * 300)),
      removed: options.removed ? sqlTime(options.removed) : null,
    });
    return { id, uuid, name, domain };
  }

  /** A project and the account of type 5 that owns its resources. */
  async project(name: string, domain: SeedDomain): Promise<SeedAccount & { projectUuid: string }> {
    const account = await this.account(`PrjAcct-${name}-1`, domain, { type: 5 });
    const projectUuid = randomUUID();
    await this.insert('projects', {
      name,
      uuid: projectUuid,
      display_text: name,
      project_account_id: account.id,
      domain_id: domain.id,
      created: sqlTime(hoursAgo(24 * 200)),
      state: 'Active',
    });
    return { ...account, projectUuid };
  }

  async accountDetail(account: SeedAccount, name: string, value: string): Promise<void> {
    await this.insert('account_details', { account_id: account.id, name, value });
  }

  async store(options: {
    name: string;
    provider: string;
    url: string;
    accessKey?: string;
    secretKey?: string;
  }): Promise<SeedStore> {
    const uuid = randomUUID();
    const id = await this.insert('object_store', {
      name: options.name,
      object_provider_name: options.provider,
      url: options.url,
      uuid,
      created: sqlTime(hoursAgo(24 * 365)),
      total_size: 1024 ** 4,
    });
    if (options.accessKey)
      await this.insert('object_store_details', {
        store_id: id,
        name: 'accesskey',
        value: options.accessKey,
      });
    if (options.secretKey)
      await this.insert('object_store_details', {
        store_id: id,
        name: 'secretkey',
        value: options.secretKey,
      });
    return { id, uuid, name: options.name, url: options.url };
  }

  async bucket(options: {
    name: string;
    store: SeedStore;
    account: SeedAccount;
    state?: string;
    created?: Date;
    removed?: Date;
    accessKey?: string;
    secretKey?: string;
    /** GB; none unless given (CloudStack's quota parameter is optional). */
    quota?: number | null;
    size?: number;
    versioning?: boolean;
    encryption?: boolean;
    objectLock?: boolean;
    policy?: 'public' | 'private';
    /** bucket_url, when not the store's URL + "/" + name (a bucket created before the store moved). */
    bucketUrl?: string;
  }): Promise<{ id: number; uuid: string }> {
    const uuid = randomUUID();
    const id = await this.insert('bucket', {
      name: options.name,
      object_store_id: String(options.store.id),
      state: options.state ?? 'Created',
      uuid,
      domain_id: options.account.domain.id,
      account_id: options.account.id,
      size: options.size ?? 0,
      quota: options.quota ?? null,
      versioning: options.versioning ?? false,
      encryption: options.encryption ?? false,
      object_lock: options.objectLock ?? false,
      policy: options.policy ?? 'private',
      access_key: options.accessKey ?? null,
      secret_key: options.secretKey ?? null,
      // As the MinIO, Ceph and Simulator drivers set it at creation (createBucket).
      bucket_url: options.bucketUrl ?? `${options.store.url}/${options.name}`,
      created: sqlTime(options.created ?? hoursAgo(48)),
      removed: options.removed ? sqlTime(options.removed) : null,
    });
    return { id, uuid };
  }

  /** The usage statistics row CloudStack's hourly task keeps for a bucket: what the usage server bills. */
  async bucketStatistics(bucket: { id: number }, account: SeedAccount, size: number): Promise<void> {
    await this.insert('bucket_statistics', { account_id: account.id, bucket_id: bucket.id, size });
  }
}
