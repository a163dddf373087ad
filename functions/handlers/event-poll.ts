// The event-table poller in AWS: on a short schedule, the bucket and object store rows of
// cloud.event since its cursor go onto the events queue, and only then does the cursor move (kept in
// the report bucket beside the ledger). The first run starts at the newest event: the past is the
// nightly audit's. Reserved concurrency 1: one poller, one cursor.
import middy from '@middy/core';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudStackEventReads } from '../cloudstack/event-reads.js';
import { logger, metrics } from '../observability.js';
import { openSink } from '../reports/open-sink.js';
import { fromEventRow, worthAuditing } from '../sources/cloudstack-event.js';
import type { ChangeEvent } from '../sources/cloudstack-event.js';
import { toQueueMessage } from '../sources/queued-event.js';
import { eventQueueUrl, functionSettings } from './environment.js';
import { auditSecrets, fetchedSecrets } from './secrets.js';

const queueUrl = eventQueueUrl(process.env); // a missing queue fails the init, loudly
const sqs = new SQSClient({});
export const CURSOR_KEY = 'state/event-cursor.json';
const BATCH = 1000;

export async function pollFunction(
  _event: unknown,
  context: Context,
): Promise<{ queued: number; cursor: number }> {
  const secrets = fetchedSecrets(context);
  const settings = functionSettings(process.env, secrets.stores);
  const sink = openSink(settings.out);
  const reads = new CloudStackEventReads(secrets.db);
  try {
    const stored = await sink.get(CURSOR_KEY);
    let cursor = stored === null ? null : cursorOf(stored);
    if (cursor === null) {
      cursor = await reads.latestEventId();
      await sink.put(CURSOR_KEY, cursorText(cursor), 'application/json');
      logger.info('event cursor started at the newest event', { cursor });
      return { queued: 0, cursor };
    }
    let queued = 0;
    for (;;) {
      const rows = await reads.eventsSince(cursor, BATCH);
      if (!rows.length) break;
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
          throw new Error(`SQS refused ${sent.Failed.length} event(s): ${sent.Failed[0]?.Code}`);
      }
      queued += events.length;
      cursor = Math.max(...rows.map((r) => r.id));
      await sink.put(CURSOR_KEY, cursorText(cursor), 'application/json');
    }
    if (queued) logger.info('events queued', { queued, cursor });
    return { queued, cursor };
  } finally {
    await reads.close();
  }
}

function cursorText(lastEventId: number): string {
  return `${JSON.stringify({ lastEventId, at: new Date().toISOString() })}\n`;
}

function cursorOf(text: string): number {
  const lastId = (JSON.parse(text) as { lastEventId?: unknown }).lastEventId;
  if (typeof lastId !== 'number' || !Number.isInteger(lastId) || lastId < 0)
    throw new Error(`${CURSOR_KEY} holds no event id; delete it to start from the newest event`);
  return lastId;
}

export const handler = middy(pollFunction)
  .use(injectLambdaContext(logger))
  .use(auditSecrets('csdrift-poll-secrets'))
  .use(logMetrics(metrics));
