// What the two continuous-mode benchmarks share: the watcher telling the SNS stand-in, the floor
// (the same targeted audit run directly), and the store requests and rows their event runs cost.
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { runAudit } from '../functions/audit.js';
import type { DbUrl } from '../functions/cloudstack/db-url.js';
import type { AuditConfig } from '../functions/core/config.js';
import type { Report } from '../functions/core/report.js';
import { SnsNotifier } from '../functions/notify/sns.js';
import { FolderStorage } from '../functions/state/folder-storage.js';
import { Watcher } from '../functions/watch/watcher.js';
import type { SnsStandIn } from '../test/support/aws-standins.js';

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Seconds of the targeted audit of one bucket, run directly, five times. */
export async function targetedAuditFloor(db: DbUrl, config: AuditConfig, bucket: string): Promise<number[]> {
  const floors: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await runAudit({ db, config, stores: [], rules: [], buckets: [bucket], trigger: 'cli' });
    floors.push((performance.now() - t) / 1000);
  }
  return floors;
}

/** A started watcher writing to `dir` and telling the SNS stand-in. */
export async function benchWatcher(
  db: DbUrl,
  config: AuditConfig,
  sns: SnsStandIn,
  dir: string,
): Promise<{ watcher: Watcher; storage: FolderStorage; listening: string }> {
  const client = new SNSClient({
    endpoint: sns.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  });
  const storage = new FolderStorage(dir);
  const watcher = new Watcher({
    db,
    config,
    storage,
    formats: ['json'],
    notifiers: [new SnsNotifier('arn:aws:sns:us-east-1:123456789012:bench', client)],
    stateDir: join(dir, 'watch-state'),
    log: () => {},
  });
  const listening = await watcher.start();
  return { watcher, storage, listening };
}

/** Store requests and bucket rows read, summed over the event runs' reports. */
export async function eventRunCosts(storage: FolderStorage): Promise<{ requests: number; rowsRead: number }> {
  const runs = (await storage.list('runs/')).filter((k) => k.endsWith('report.json'));
  const reports = await Promise.all(
    runs.map(async (k) => JSON.parse((await storage.read(k))?.text ?? '{}') as Report),
  );
  const eventRuns = reports.filter((r) => r.trigger === 'event');
  return {
    requests: eventRuns.reduce((n, r) => n + r.coverage.reduce((m, c) => m + c.evidence.requests, 0), 0),
    rowsRead: eventRuns.reduce((n, r) => n + (r.cloudstack.bucketRowsRead ?? 0), 0),
  };
}
