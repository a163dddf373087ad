// A watcher for the integration tests: writing JSON reports to the test's folder, telling the SNS
// stand-in, its lines kept for the assertions, with short retry waits.
import { join } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import type { DbUrl } from '../../functions/cloudstack/db-url.js';
import type { AuditConfig } from '../../functions/core/config.js';
import type { Notifier } from '../../functions/notify/notifier.js';
import { SnsNotifier } from '../../functions/notify/sns.js';
import { FolderStorage } from '../../functions/state/folder-storage.js';
import { Watcher } from '../../functions/watch/watcher.js';
import type { SnsStandIn } from './aws-standins.js';

export const TEST_TOPIC = 'arn:aws:sns:us-east-1:123456789012:csdrift-tasks';

export function testWatcher(options: {
  db: DbUrl;
  dir: string;
  config: AuditConfig;
  sns: SnsStandIn;
  lines: string[];
  feedMissingAfterMs?: number;
  /** Further channels (one that fails, say) beside SNS. */
  notifiers?: Notifier[];
}): Watcher {
  const client = new SNSClient({
    endpoint: options.sns.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'standin' },
  });
  return new Watcher({
    db: options.db,
    config: options.config,
    storage: new FolderStorage(options.dir),
    formats: ['json'],
    notifiers: [new SnsNotifier(TEST_TOPIC, client), ...(options.notifiers ?? [])],
    stateDir: join(options.dir, 'watch-state'),
    log: (line) => options.lines.push(line),
    retryMs: 500,
    ...(options.feedMissingAfterMs !== undefined ? { feedMissingAfterMs: options.feedMissingAfterMs } : {}),
  });
}
