// The stores' own change feeds, started for the watcher: each RGW ops log named in `watch.opsLogs`,
// and with `watch.minio.listen` each MinIO store's bucket notifications. A feed names the store it
// came from (its uuid), so its events become targeted audits of that store alone. Stores are read
// from CloudStack once, at start: a key that names no store fails the start, loudly.
import { createHash } from 'node:crypto';
import { applyStoreOverrides, storeMatches } from '../audit.js';
import type { DbUrl } from '../cloudstack/db-url.js';
import { loadStores } from '../cloudstack/inventory.js';
import type { AuditConfig, WatchConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { ChangeEvent, EventSource } from '../sources/cloudstack-event.js';
import { MinioListenSource } from '../sources/minio-listen-source.js';
import { OpsLogSource, opsLogPosition } from '../sources/ops-log-source.js';
import type { StateStorage } from '../state/storage.js';

export interface StoreFeedHooks {
  /** An event for the debouncer, and what to call once its verdict is written. */
  accept: (event: ChangeEvent, settle: () => void) => void;
  malformed: (source: EventSource, why: string) => void;
  state: (feed: string, up: boolean, detail: string) => void;
}

export class StoreFeeds {
  private readonly opsLogs: OpsLogSource[] = [];
  private readonly listens: MinioListenSource[] = [];
  /** For the start line: what is followed. */
  readonly described: string[] = [];

  constructor(
    private readonly watch: WatchConfig,
    private readonly hooks: StoreFeedHooks,
    private readonly state: StateStorage,
    private readonly missingAfterMs?: number,
  ) {}

  get configured(): boolean {
    return Object.keys(this.watch.opsLogs ?? {}).length > 0 || Boolean(this.watch.minio?.listen);
  }

  async start(db: DbUrl, config: AuditConfig): Promise<void> {
    if (!this.configured) return;
    const stores = applyStoreOverrides(await loadStores(db), config);
    const known = () => stores.map((s) => s.name).join(', ') || 'none';
    for (const [key, path] of Object.entries(this.watch.opsLogs ?? {})) {
      const store = stores.find((s) => storeMatches(s, key));
      if (!store) throw new ConfigError(`config: watch.opsLogs.${key}: no such store (known: ${known()})`);
      const feed = `ops-log ${store.name}`;
      const source = new OpsLogSource({
        store: store.uuid,
        path,
        cursor: opsLogPosition(
          this.state,
          `ops-log-${createHash('sha256').update(store.uuid).digest('hex').slice(0, 16)}.json`,
        ),
        onEvent: (event, settle) => this.hooks.accept(event, settle),
        onMalformed: (why) => this.hooks.malformed('ops-log', why),
        onState: (up, detail) => this.hooks.state(feed, up, detail),
        ...(this.missingAfterMs !== undefined ? { missingAfterMs: this.missingAfterMs } : {}),
      });
      await source.start();
      this.opsLogs.push(source);
      this.described.push(`${store.name}'s ops log ${path}`);
    }
    if (this.watch.minio?.listen) {
      for (const store of stores.filter((s) => s.provider === 'MinIO' && !s.skip)) {
        const feed = `minio-listen ${store.name}`;
        const source = new MinioListenSource({
          store,
          onEvent: (event) => this.hooks.accept(event, () => {}),
          onMalformed: (why) => this.hooks.malformed('minio-listen', why),
          onState: (up, detail) => this.hooks.state(feed, up, detail),
        });
        source.start();
        this.listens.push(source);
        this.described.push(`${store.name}'s bucket notifications`);
      }
    }
  }

  /** No new line or notification. */
  async stop(): Promise<void> {
    for (const l of this.listens) l.stop();
    await Promise.all(this.opsLogs.map((s) => s.stop()));
  }

  /** Once the audits in flight are written: each ops log's position as far as verdicts go. */
  async flush(): Promise<void> {
    await Promise.all(this.opsLogs.map((s) => s.flush()));
  }
}
