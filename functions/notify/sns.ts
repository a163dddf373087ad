// Remediation tasks on SNS. The SDK's default credential chain and AWS_ENDPOINT_URL_SNS apply.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '../core/notifications.js';
import type { Notifier } from './notifier.js';

export class SnsNotifier implements Notifier {
  readonly channel = 'sns';
  private readonly fifo: boolean;

  constructor(
    private readonly topicArn: string,
    private readonly sns: SNSClient = new SNSClient({}),
  ) {
    this.fifo = topicArn.endsWith('.fifo');
  }

  async deliver(messages: Notification[]) {
    const sent: Notification[] = [];
    const failures: string[] = [];
    for (const m of messages) {
      try {
        await this.sns.send(
          new PublishCommand({
            TopicArn: this.topicArn,
            Subject: m.subject,
            Message: m.body,
            MessageAttributes: Object.fromEntries(
              Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
            ),
            ...(this.fifo ? { MessageGroupId: m.groupId, MessageDeduplicationId: m.dedupId } : {}),
          }),
        );
        sent.push(m);
      } catch (err) {
        failures.push(`SNS refused "${m.subject}": ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    return { sent, failures };
  }
}
