// CloudStack's webhooks in AWS: a function URL (CloudStack cannot sign with SigV4, so the URL's auth
// is NONE and the request's own X-CS-Signature is what is checked). Answers 200 only once the event
// is on the events queue: CloudStack never delivers a hook again after a 200.
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from '../observability.js';
import { MalformedEventError, parseBusMessage, worthAuditing } from '../sources/cloudstack-event.js';
import { toQueueMessage } from '../sources/queued-event.js';
import { signatureMatches } from '../sources/webhook-signature.js';
import { eventQueueUrl, functionEnvironment } from './environment.js';
import { plainSecret } from '../secrets/resolve-secrets.js';
import { functionSecrets, prefetchedReader } from './secrets.js';
import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas/lambda';
import type * as z from 'zod';
import { csdriftHandler } from './handler.js';

const SECRET_ID = functionEnvironment(process.env).WEBHOOK_SECRET_ID ?? ''; // a typo fails the init, loudly
const queueUrl = eventQueueUrl(process.env);
const sqs = new SQSClient({});
const MAX_BODY_BYTES = 1024 * 1024;

const answer = (statusCode: number, body: string): LambdaFunctionURLResult => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: `${body}\n`,
});

export async function webhookFunction(
  event: LambdaFunctionURLEvent,
  context: Context,
): Promise<LambdaFunctionURLResult> {
  if (event.requestContext.http.method !== 'POST') return answer(405, 'POST only');
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES) return answer(413, 'body too large');
  const secret = await plainSecret(prefetchedReader(context, [SECRET_ID]), SECRET_ID, 'WEBHOOK_SECRET_ID');
  if (!signatureMatches(secret, raw, event.headers['x-cs-signature'])) {
    metrics.addMetric('EventsDropped', MetricUnit.Count, 1);
    logger.warn('webhook refused: bad or missing X-CS-Signature', {
      eventId: event.headers['x-cs-event-id'],
    });
    return answer(401, 'bad or missing X-CS-Signature');
  }
  metrics.addMetric('EventsReceived', MetricUnit.Count, 1);
  let change;
  try {
    change = parseBusMessage(raw.toString('utf8'), 'webhook', () => new Date());
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    metrics.addMetric('EventsDropped', MetricUnit.Count, 1);
    logger.warn('webhook dropped: not a CloudStack event', { reason: err.message });
    return answer(400, 'not a CloudStack event');
  }
  if (!change || !worthAuditing(change)) return answer(200, 'not an event csdrift audits');
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: toQueueMessage(change) }));
  logger.info('webhook queued', { type: change.type, target: change.target, failed: change.failed });
  return answer(200, 'queued');
}

export const handler = csdriftHandler(webhookFunction, {
  payload: {
    schema: LambdaFunctionUrlSchema as z.ZodType<LambdaFunctionURLEvent>,
    name: 'function URL event',
  },
  secrets: functionSecrets('csdrift-webhook-secret', [SECRET_ID]),
});
