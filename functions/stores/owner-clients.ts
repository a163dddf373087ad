// S3 clients with each owner's keys, made once per account and closed with the connection.
import type { S3Client } from '@aws-sdk/client-s3';
import type { StoreTarget } from '../core/model.js';
import type { InspectTarget, ScanContext } from './adapter.js';
import type { CountingHttpHandler, TransportOptions } from './http.js';
import { makeS3Client } from './s3-client.js';

export class OwnerClients {
  private readonly clients = new Map<string, Promise<S3Client | null>>();

  constructor(
    private readonly store: StoreTarget,
    private readonly handler: CountingHttpHandler,
    private readonly options: TransportOptions,
    private readonly context: ScanContext,
  ) {}

  /** The owner's client, or null when CloudStack has no keys for the account. */
  for(target: InspectTarget): Promise<S3Client | null> {
    const uuid = target.accountUuid;
    const lookup = this.context.ownerKeys;
    if (!uuid || !lookup) return Promise.resolve(null);
    let client = this.clients.get(uuid);
    if (!client) {
      client = lookup(uuid).then((keys) =>
        keys ? makeS3Client({ ...this.store, credentials: keys }, this.handler, this.options) : null,
      );
      this.clients.set(uuid, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) void c.then((client) => client?.destroy());
  }
}
