// The events path's audits in AWS: SQS delivers the queued change events in batches (its batching
// window is the debounce); they become targeted audits exactly as `csdrift watch` makes them, and an
// event whose audit failed is reported back to SQS as a batch item failure, to come again.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudStackEventReads } from '../cloudstack/event-reads.js';
import { SnsNotifier } from '../notify/sns.js';
import { logger, metrics } from '../observability.js';
import { openStorage } from '../state/open-storage.js';
import { auditAndPublish } from '../run.js';
import { fromQueueMessage } from '../sources/queued-event.js';
import type { QueuedEvent } from '../watch/event-audits.js';
import { EventAudits } from '../watch/event-audits.js';

import { configSecrets } from './secrets.js';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type * as z from 'zod';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-event-audit-secrets'); // what its config names, fetched by middy

export async function eventAuditFunction(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const settings = await secrets.settings(context);
  const storage = openStorage(settings.out);
  const notifiers = settings.topicArn ? [new SnsNotifier(settings.topicArn)] : [];
  const failed = new Set<string>();
  const queued: QueuedEvent[] = [];
  const idOf = new Map<QueuedEvent, string>();
  for (const record of event.Records) {
    try {
      const q: QueuedEvent = { event: fromQueueMessage(record.body), settle: () => {} };
      idOf.set(q, record.messageId);
      queued.push(q);
    } catch (err) {
      // Not ours to retry: a message no producer of ours writes is dropped, and said.
      metrics.addMetric('EventsDropped', MetricUnit.Count, 1);
      logger.warn('queued event dropped: not a change event', {
        messageId: record.messageId,
        reason: (err as Error).message,
      });
    }
  }
  const reads = new CloudStackEventReads(settings.db);
  try {
    const audits = new EventAudits({
      reads,
      audit: ({ stores, buckets, failedDeletes, causes }) =>
        auditAndPublish({
          db: settings.db,
          config: settings.config,
          stores,
          rules: [],
          buckets,
          ...(failedDeletes ? { failedDeletes } : {}),
          ...(causes ? { causes } : {}),
          trigger: 'event',
          storage,
          formats: settings.formats,
          notifiers,
        }),
      observer: {
        dropped: () => metrics.addMetric('EventsDropped', MetricUnit.Count, 1),
        audited: (status) => {
          const single = metrics.singleMetric();
          single.addDimensions({ status });
          single.addMetric('EventAudits', MetricUnit.Count, 1);
        },
        verdictAfter: (seconds) => metrics.addMetric('EventToVerdictSeconds', MetricUnit.Seconds, seconds),
      },
      maxBucketsPerAudit: settings.config.watch?.maxBucketsPerAudit ?? 500,
      concurrentAudits: settings.config.watch?.concurrentAudits ?? 2,
      log: (line) => logger.info(line),
      retry: (events) => events.forEach((q) => failed.add(idOf.get(q) ?? '')),
    });
    await audits.handle([{ key: 'batch', items: queued }]);
  } finally {
    await reads.close();
  }
  return { batchItemFailures: [...failed].filter(Boolean).map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = csdriftHandler(eventAuditFunction, {
  // SQS's own event shape (Powertools' schema): each record's body is parsed by the audit itself,
  // so that one bad message is one batch item failure, not a failed batch.
  payload: { schema: SqsSchema as z.ZodType<SQSEvent>, name: 'SQS event' },
  secrets: secrets.middleware,
});
