// The Slack notifier Lambda, subscribed to the tasks topic: each SNS message becomes a Block Kit
// post to the webhook whose URL is in Secrets Manager. It reads the notification back through SNS's
// own format (notify/sns.ts) and renders it as the CLI's Slack path does.
import type { Context, SNSEvent } from 'aws-lambda';
import { SlackNotifier } from '../notify/slack.js';
import { notificationFromSns } from '../notify/sns.js';
import { logger } from '../observability.js';
import { CsdriftError } from '../core/errors.js';
import { slackWebhookSecret } from '../secrets/resolve-secrets.js';
import { functionSecrets, prefetchedReader } from './secrets.js';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import type * as z from 'zod';
import { csdriftHandler } from './handler.js';

const SECRET_ID = process.env.SLACK_WEBHOOK_SECRET_ID ?? '';
/** Set by the construct when the Slack actions function is deployed: tasks carry buttons. */
const INTERACTIVE = process.env.SLACK_INTERACTIVE === 'true';

export async function slackNotifierFunction(event: SNSEvent, context: Context): Promise<{ sent: number }> {
  const reader = prefetchedReader(context, [SECRET_ID]);
  const url = await slackWebhookSecret(reader, SECRET_ID, 'SLACK_WEBHOOK_SECRET_ID');
  const { sent, failures } = await new SlackNotifier(url, undefined, { interactive: INTERACTIVE }).deliver(
    event.Records.map((r) => notificationFromSns(r.Sns)),
  );
  for (const failure of failures) logger.error('Slack post failed', { failure });
  if (failures.length) throw new CsdriftError(`${failures.length} Slack post(s) failed`); // SNS retries the delivery
  return { sent: sent.length };
}

export const handler = csdriftHandler(slackNotifierFunction, {
  payload: { schema: SnsSchema as z.ZodType<SNSEvent>, name: 'SNS event' },
  secrets: functionSecrets('csdrift-slack-webhook', [SECRET_ID]),
  metrics: false,
});
