// The Slack notifier Lambda, subscribed to the tasks topic: each SNS message becomes a Block Kit
// post to the webhook whose URL is in Secrets Manager. It reads the notification back through SNS's
// own format (notify/sns.ts) and renders it as the CLI's Slack path does.
import secretsManager from '@middy/secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import { SlackNotifier } from '../notify/slack.js';
import { notificationFromSns } from '../notify/sns.js';
import { logger } from '../observability.js';
import { ConfigError, CsdriftError } from '../core/errors.js';
import { csdriftHandler } from './handler.js';

export async function slackNotifierFunction(
  event: SNSEvent,
  context: Context & { slack?: unknown },
): Promise<{ sent: number }> {
  const secret = context.slack;
  const url = typeof secret === 'string' ? secret : (secret as { url?: string } | undefined)?.url;
  if (!url) throw new ConfigError('the Slack webhook secret holds no URL');
  const { sent, failures } = await new SlackNotifier(url).deliver(
    event.Records.map((r) => notificationFromSns(r.Sns)),
  );
  for (const failure of failures) logger.error('Slack post failed', { failure });
  if (failures.length) throw new CsdriftError(`${failures.length} Slack post(s) failed`); // SNS retries the delivery
  return { sent: sent.length };
}

export const handler = csdriftHandler(slackNotifierFunction, {
  secrets: secretsManager({
    fetchData: { slack: process.env.SLACK_WEBHOOK_SECRET_ID ?? '' },
    setToContext: true,
    cacheExpiry: 15 * 60_000,
    disablePrefetch: true,
  }),
  metrics: false,
});
