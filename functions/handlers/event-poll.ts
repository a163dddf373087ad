// The event-table poller in AWS: on a short schedule, the bucket and object store rows of
// cloud.event since its cursor go onto the events queue, and only then does the cursor move (kept in
// the report bucket beside the ledger). The poller is the watcher's (sources/event-table-source.ts). The first run starts at the newest event: the past is the
// nightly audit's. Reserved concurrency 1: one poller, one cursor.
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudStackEventReads } from '../cloudstack/event-reads.js';
import { logger, metrics } from '../observability.js';
import { openStorage } from '../state/open-storage.js';
import { fromEventRow, worthAuditing } from '../sources/cloudstack-event.js';
import { EventTablePoller, eventCursor } from '../sources/event-table-source.js';
import type { ChangeEvent } from '../sources/cloudstack-event.js';
import { toQueueMessage } from '../sources/queued-event.js';
import { eventQueueUrl } from './environment.js';
import { configSecrets } from './secrets.js';
import { CsdriftError } from '../core/errors.js';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-poll-secrets'); // what its config names, fetched by middy

const queueUrl = eventQueueUrl(process.env); // a missing queue fails the init, loudly
const sqs = new SQSClient({});
export const CURSOR_KEY = 'state/event-cursor.json';
const BATCH = 1000;

export async function pollFunction(
  _event: unknown,
  context: Context,
): Promise<{ queued: number; cursor: number }> {
  const settings = await secrets.settings(context);
  const reads = new CloudStackEventReads(settings.db);
  let queued = 0;
  try {
    // The same poller as csdrift watch's event table source; here each batch goes onto the queue.
    const poller = new EventTablePoller({
      reads,
      cursor: eventCursor(openStorage(settings.out), CURSOR_KEY),
      batchSize: BATCH,
      onCursorReset: (from, to) =>
        logger.warn('event cursor was ahead of cloud.event (a restored database?); reset to its end', {
          from,
          to,
        }),
      handle: async (rows) => {
        metrics.addMetric('EventsReceived', MetricUnit.Count, rows.length);
        const events = rows.flatMap((row): ChangeEvent[] => {
          try {
            const event = fromEventRow(row);
            return event && worthAuditing(event) ? [event] : [];
          } catch (err) {
            logger.warn('event row dropped', { id: row.id, reason: (err as Error).message });
            return [];
          }
        });
        for (let i = 0; i < events.length; i += 10) {
          const chunk = events.slice(i, i + 10);
          const sent = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((e, j) => ({ Id: String(j), MessageBody: toQueueMessage(e) })),
            }),
          );
          // A refused entry must not be passed by the cursor: fail, and the next run reads it again.
          if (sent.Failed?.length)
            throw new CsdriftError(`SQS refused ${sent.Failed.length} event(s): ${sent.Failed[0]?.Code}`);
        }
        queued += events.length;
      },
    });
    const polled = await poller.pollOnce();
    if (polled.started) logger.info('event cursor started at the newest event', { cursor: polled.cursor });
    else if (queued) logger.info('events queued', { queued, cursor: polled.cursor });
    return { queued, cursor: polled.cursor };
  } finally {
    await reads.close();
  }
}

export const handler = csdriftHandler(pollFunction, { secrets: secrets.middleware });
