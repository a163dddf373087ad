// The watcher's sources, built from its config in the order they start (and stop in reverse):
// CloudStack's bus, its webhooks, its event table, MinIO's audit webhook, then the stores' own feeds
// (each RGW ops log named in `watch.opsLogs`; with `watch.minio.listen` each MinIO store's bucket
// notifications). A store feed names the store it came from (its uuid), so its events become
// targeted audits of that store alone. Stores are read from CloudStack once, at start: a key that
// names no store fails the start, loudly.
import { createHash } from 'node:crypto';
import { applyStoreOverrides, storeMatches } from '../audit.js';
import type { CloudStackEventReads } from '../cloudstack/event-reads.js';
import type { DbUrl } from '../cloudstack/db-url.js';
import { loadStores } from '../cloudstack/inventory.js';
import type { AuditConfig, WatchConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { AmqpSource } from '../sources/amqp-source.js';
import type { ChangeSource } from '../sources/change-source.js';
import { CloudStackWebhookSource } from '../sources/cloudstack-webhook-source.js';
import { EventTableSource, eventCursor } from '../sources/event-table-source.js';
import { MinioAuditSource } from '../sources/minio-audit-source.js';
import { MinioListenSource } from '../sources/minio-listen-source.js';
import { OpsLogSource, opsLogPosition } from '../sources/ops-log-source.js';
import { EventSpool } from '../state/spool.js';
import type { StateStorage } from '../state/storage.js';

export interface SourcesInput {
  watch: WatchConfig;
  db: DbUrl;
  config: AuditConfig;
  reads: CloudStackEventReads;
  /** The watcher's state folder: the spool, the event table's cursor, the ops logs' positions. */
  state: StateStorage;
  feedMissingAfterMs?: number;
  /** The config file, as errors about it name it (default `config`). */
  configSource?: string;
}

export async function watchSources(input: SourcesInput): Promise<ChangeSource[]> {
  const { watch, state } = input;
  const cs = watch.cloudstack;
  const spool = new EventSpool(state);
  const sources: ChangeSource[] = [];
  if (cs?.amqp) sources.push(new AmqpSource(cs.amqp));
  if (cs?.webhookSecret) sources.push(new CloudStackWebhookSource(cs.webhookSecret, spool));
  if (cs?.pollEventsSeconds)
    sources.push(
      new EventTableSource({
        poller: { reads: input.reads, cursor: eventCursor(state, 'event-cursor.json') },
        intervalMs: cs.pollEventsSeconds * 1000,
      }),
    );
  if (watch.minio?.authToken) sources.push(new MinioAuditSource(watch.minio.authToken, spool));
  if (!Object.keys(watch.opsLogs ?? {}).length && !watch.minio?.listen) return sources;

  const stores = applyStoreOverrides(await loadStores(input.db), input.config);
  const known = () => stores.map((s) => s.name).join(', ') || 'none';
  for (const [key, path] of Object.entries(watch.opsLogs ?? {})) {
    const store = stores.find((s) => storeMatches(s, key));
    if (!store)
      throw new ConfigError(
        `${input.configSource ?? 'config'}: watch.opsLogs.${key}: no such store (known: ${known()})`,
      );
    sources.push(
      new OpsLogSource({
        store: store.uuid,
        storeName: store.name,
        path,
        cursor: opsLogPosition(
          state,
          `ops-log-${createHash('sha256').update(store.uuid).digest('hex').slice(0, 16)}.json`,
        ),
        ...(input.feedMissingAfterMs !== undefined ? { missingAfterMs: input.feedMissingAfterMs } : {}),
      }),
    );
  }
  if (watch.minio?.listen)
    for (const store of stores.filter((s) => s.provider === 'MinIO' && !s.skip))
      sources.push(new MinioListenSource({ store }));
  return sources;
}
