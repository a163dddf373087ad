// Remediation tasks on SNS, and SNS's wire format of a notification, both ways: a subject of at most
// 100 printable ASCII characters; a body of text for people, a `--- JSON ---` marker and the JSON
// part subscribers read (docs/contract.md, "Notifications"), under SNS's 256 KiB in bytes; and the
// message attributes for filter policies. The SDK's default credential chain and
// AWS_ENDPOINT_URL_SNS apply.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import type { Notification, NotificationKind } from '../core/notifications.js';
import { renderText } from '../core/notifications.js';
import { visible } from '../core/shell.js';
import { SEVERITIES } from '../core/model.js';
import type { Notifier } from './notifier.js';

export const SNS_SUBJECT_MAX = 100;
/** SNS takes 256 KiB; leave room for attributes and encoding. */
export const MESSAGE_MAX_BYTES = 250 * 1024;

const JSON_PART = '\n\n--- JSON ---\n';

/** SNS subjects: printable ASCII, no line breaks, at most 100 characters. */
export function snsSubject(n: Pick<Notification, 'title'>): string {
  // Invisible characters are first written as escapes a reader can see; other non-ASCII become `?`.
  const clean = visible(n.title).replace(/[^\x20-\x7e]/g, '?');
  return clean.length > SNS_SUBJECT_MAX ? `${clean.slice(0, SNS_SUBJECT_MAX - 1)}~` : clean;
}

/** What a subscriber never loses to the size limit: what the message is about. */
const IDENTIFYING = new Set([
  'kind',
  'id',
  'rule',
  'severity',
  'store',
  'investigateStore',
  'report',
  'runId',
]);

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The text for people, then the JSON part, under SNS's limit measured in bytes, the JSON part always
 * whole: fields go whole, the evidence first and then the largest, each replaced by where to read
 * it (a storm's list of 10,000 finding ids is such a field). Only if the text for people is itself
 * too long is it cut, at a line.
 */
export function snsBody(n: Pick<Notification, 'sections' | 'data' | 'reportUri'>): string {
  const text = renderText(n);
  const jsonPart = (j: Record<string, unknown>) => `${JSON_PART}${JSON.stringify(j, null, 2)}\n`;
  let fields = { ...n.data };
  let part = jsonPart(fields);
  const pointer = `too large for a message: see ${n.reportUri}`;
  const droppable = () =>
    Object.keys(fields)
      .filter((k) => !IDENTIFYING.has(k) && fields[k] !== pointer)
      .sort(
        (a, b) =>
          (a === 'evidence' ? -1 : b === 'evidence' ? 1 : 0) ||
          bytes(JSON.stringify(fields[b])) - bytes(JSON.stringify(fields[a])),
      );
  while (bytes(text) + bytes(part) > MESSAGE_MAX_BYTES) {
    const next = droppable()[0];
    if (!next) break;
    fields = { ...fields, [next]: pointer };
    part = jsonPart(fields);
  }
  if (bytes(text) + bytes(part) <= MESSAGE_MAX_BYTES) return `${text}${part}`;
  const tail = `\n… cut: the whole message is in ${n.reportUri}`;
  const room = Math.max(0, MESSAGE_MAX_BYTES - bytes(part) - bytes(tail));
  const head = Buffer.from(text, 'utf8')
    .subarray(0, room)
    .toString('utf8')
    .replace(/\uFFFD?[^\n]*$/, '');
  return `${head}${tail}${part}`;
}

/** The JSON part as the Slack function reads it back: what it needs, checked; the rest kept as it is. */
const jsonPartSchema = z.looseObject({
  kind: z.enum(['task', 'resolved', 'digest', 'healed']),
  report: z.string().optional(),
  findingId: z.string().optional(),
  rule: z.string().optional(),
  bucket: z.string().nullable().optional(),
});

const attributesSchema = z.object({
  kind: z.enum(['task', 'resolved', 'digest', 'healed']).catch('digest'),
  rule: z.string().catch(''),
  severity: z.enum(SEVERITIES).catch('info'),
  store: z.string().catch(''),
});

/**
 * An SNS delivery back as a notification (the Slack function subscribed to the topic): the subject
 * as its title, the text for people as one section, the JSON part as its data. A body that has no
 * JSON part it can read is still shown, as text.
 */
export function notificationFromSns(message: {
  MessageId: string;
  Subject?: string | null;
  Message: string;
  MessageAttributes?: Record<string, { Value?: string } | undefined>;
}): Notification {
  const at = message.Message.lastIndexOf(JSON_PART);
  const text = at >= 0 ? message.Message.slice(0, at) : message.Message;
  const attribute = (name: string) => message.MessageAttributes?.[name]?.Value;
  const attributes = attributesSchema.parse({
    kind: attribute('kind'),
    rule: attribute('rule'),
    severity: attribute('severity'),
    store: attribute('store'),
  });
  let data: z.infer<typeof jsonPartSchema> | undefined;
  if (at >= 0) {
    const parsed = jsonPartSchema.safeParse(safeJson(message.Message.slice(at + JSON_PART.length)));
    if (parsed.success) data = parsed.data;
  }
  const kind: NotificationKind = data?.kind ?? attributes.kind;
  return {
    kind,
    severity: attributes.severity,
    title: message.Subject ?? 'csdrift',
    sections: [{ kind: 'lines', lines: text.split('\n') }],
    reportUri: data?.report ?? '',
    data: data ?? { kind },
    ...(kind === 'task' && data?.findingId
      ? {
          finding: {
            id: data.findingId,
            rule: data.rule ?? attributes.rule,
            store: attributes.store,
            bucket: data.bucket ?? null,
          },
        }
      : {}),
    attributes: { ...attributes, kind },
    groupId: '',
    dedupId: message.MessageId,
    findingIds: data?.findingId ? [data.findingId] : [],
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

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
      const subject = snsSubject(m);
      try {
        await this.sns.send(
          new PublishCommand({
            TopicArn: this.topicArn,
            Subject: subject,
            Message: snsBody(m),
            MessageAttributes: Object.fromEntries(
              Object.entries(m.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
            ),
            ...(this.fifo ? { MessageGroupId: m.groupId, MessageDeduplicationId: m.dedupId } : {}),
          }),
        );
        sent.push(m);
      } catch (err) {
        failures.push(`SNS refused "${subject}": ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    return { sent, failures };
  }
}
