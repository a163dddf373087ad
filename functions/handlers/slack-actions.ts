// The Slack buttons in AWS: a function URL (Slack cannot sign with SigV4, so the URL's auth is NONE
// and Slack's own request signature is what is checked, before anything else). A verified click is
// claimed once in the report bucket (a replay gets 401), handed to the remediate function as an
// asynchronous invoke, and answered 200 within Slack's 3 seconds; the remediate function carries it
// out and posts the outcome to the click's response_url.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { acceptClick } from '../actions/slack-actions.js';
import { ConfigError } from '../core/errors.js';
import { logger, metrics } from '../observability.js';
import { plainSecret } from '../secrets/resolve-secrets.js';
import { openStorage } from '../state/open-storage.js';
import { functionEnvironment } from './environment.js';
import { functionSecrets, prefetchedReader } from './secrets.js';
import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas/lambda';
import type * as z from 'zod';
import { csdriftHandler } from './handler.js';

const env = functionEnvironment(process.env); // a typo fails the init, loudly
const SECRET_ID = env.SLACK_SIGNING_SECRET_ID ?? '';
const lambda = new LambdaClient({});
const MAX_BODY_BYTES = 64 * 1024; // a block_actions payload with its message is a few KiB

const answer = (statusCode: number, body: string): LambdaFunctionURLResult => ({
  statusCode,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body,
});

export async function slackActionsFunction(
  event: LambdaFunctionURLEvent,
  context: Context,
): Promise<LambdaFunctionURLResult> {
  if (event.requestContext.http.method !== 'POST') return answer(405, 'POST only\n');
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES) return answer(413, 'body too large\n');
  if (!env.REPORT_URI || !env.CLICK_WORKER_FUNCTION)
    throw new ConfigError('environment: REPORT_URI and CLICK_WORKER_FUNCTION are required');
  const secret = await plainSecret(
    prefetchedReader(context, [SECRET_ID]),
    SECRET_ID,
    'SLACK_SIGNING_SECRET_ID',
  );
  const accepted = await acceptClick({
    secret,
    storage: openStorage(env.REPORT_URI),
    headers: event.headers,
    body: raw,
    now: new Date(),
  });
  if ('refused' in accepted) {
    metrics.addMetric('SlackClicksRefused', MetricUnit.Count, 1);
    logger.warn('Slack action refused', { reason: accepted.why });
    return answer(accepted.refused.status, accepted.refused.body);
  }
  const { click } = accepted;
  await lambda.send(
    new InvokeCommand({
      FunctionName: env.CLICK_WORKER_FUNCTION,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify({ click })),
    }),
  );
  logger.info('Slack action queued', { action: click.action, findingId: click.findingId, user: click.user });
  return answer(200, '');
}

export const handler = csdriftHandler(slackActionsFunction, {
  payload: {
    schema: LambdaFunctionUrlSchema as z.ZodType<LambdaFunctionURLEvent>,
    name: 'function URL event',
  },
  secrets: functionSecrets('csdrift-slack-signing-secret', [SECRET_ID]),
});
