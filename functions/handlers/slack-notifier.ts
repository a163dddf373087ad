// The Slack notifier Lambda, subscribed to the tasks topic: each SNS message becomes a Block Kit
// post to the webhook whose URL is in Secrets Manager. Same formatting as the CLI's Slack path.
import middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import type { Notification, NotificationKind } from '../core/notifications.js';
import type { Severity } from '../core/model.js';
import { SlackNotifier } from '../notify/slack.js';
import { logger } from '../observability.js';
import { ConfigError, CsdriftError } from '../core/errors.js';

export function notificationFromSns(record: SNSEvent['Records'][number]): Notification {
  const attribute = (name: string) => record.Sns.MessageAttributes[name]?.Value ?? '';
  return {
    kind: (attribute('kind') || 'digest') as NotificationKind,
    subject: record.Sns.Subject ?? 'csdrift',
    body: record.Sns.Message,
    attributes: {
      rule: attribute('rule'),
      severity: (attribute('severity') || 'info') as Severity,
      store: attribute('store'),
      kind: (attribute('kind') || 'digest') as NotificationKind,
    },
    groupId: '',
    dedupId: record.Sns.MessageId,
    findingIds: [],
  };
}

export async function slackNotifierFunction(
  event: SNSEvent,
  context: Context & { slack?: unknown },
): Promise<{ sent: number }> {
  const secret = context.slack;
  const url = typeof secret === 'string' ? secret : (secret as { url?: string } | undefined)?.url;
  if (!url) throw new ConfigError('the Slack webhook secret holds no URL');
  const { sent, failures } = await new SlackNotifier(url).deliver(event.Records.map(notificationFromSns));
  for (const failure of failures) logger.error('Slack post failed', { failure });
  if (failures.length) throw new CsdriftError(`${failures.length} Slack post(s) failed`); // SNS retries the delivery
  return { sent: sent.length };
}

export const handler = middy(slackNotifierFunction).use(
  secretsManager({
    fetchData: { slack: process.env.SLACK_WEBHOOK_SECRET_ID ?? '' },
    setToContext: true,
    cacheExpiry: 15 * 60_000,
    disablePrefetch: true,
  }),
);
