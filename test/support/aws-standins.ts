// Small local endpoints that speak the APIs of AWS services that cannot run here. The SDK reaches
// them through AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_SECRETS_MANAGER.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';

export interface PublishedMessage {
  topicArn: string;
  subject: string;
  message: string;
  attributes: Record<string, string>;
  groupId?: string;
  dedupId?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

abstract class LocalEndpoint {
  private server?: Server;
  /** Requests received, of any kind. */
  received = 0;
  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address !== 'object') throw new Error('not started');
    return `http://127.0.0.1:${address.port}`;
  }
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.received++;
      readBody(req).then(
        (body) => this.handle(req, body, res),
        () => res.destroy(),
      );
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
  protected abstract handle(req: IncomingMessage, body: string, res: ServerResponse): void;
}

/** SNS Publish over the Query protocol, with SNS's own limits enforced. */
export class SnsStandIn extends LocalEndpoint {
  readonly published: PublishedMessage[] = [];

  protected handle(_req: IncomingMessage, body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    const fail = (code: string, message: string) => {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    };
    if (form.get('Action') !== 'Publish') return fail('InvalidAction', `unsupported ${form.get('Action')}`);
    const topicArn = form.get('TopicArn') ?? '';
    const subject = form.get('Subject') ?? '';
    const message = form.get('Message') ?? '';
    if (subject.length > 100 || /[^\x20-\x7e]/.test(subject)) return fail('InvalidParameter', 'Subject');
    if (Buffer.byteLength(message) > 256 * 1024) return fail('InvalidParameter', 'Message too long');
    const attributes: Record<string, string> = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[form.get(`MessageAttributes.entry.${i}.Name`) as string] =
        form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
    }
    const groupId = form.get('MessageGroupId') ?? undefined;
    const dedupId = form.get('MessageDeduplicationId') ?? undefined;
    if (topicArn.endsWith('.fifo') && !groupId)
      return fail('InvalidParameter', 'MessageGroupId required for FIFO');
    this.published.push({
      topicArn,
      subject,
      message,
      attributes,
      ...(groupId ? { groupId } : {}),
      ...(dedupId ? { dedupId } : {}),
    });
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}

/** Secrets Manager GetSecretValue over its JSON protocol. */
export class SecretsStandIn extends LocalEndpoint {
  constructor(private readonly secrets: Record<string, string>) {
    super();
  }
  protected handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
    const value = SecretId ? this.secrets[SecretId] : undefined;
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' || value === undefined) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          __type: 'ResourceNotFoundException',
          message: 'Secrets Manager can’t find the specified secret.',
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SecretId}`,
        Name: SecretId,
        SecretString: value,
        VersionId: randomUUID(),
      }),
    );
  }
}

/** A Slack incoming webhook: records what it gets; can answer 429 with Retry-After first. */
export class SlackReceiver extends LocalEndpoint {
  readonly posts: { text: string; blocks: { type: string; text?: { text: string } }[] }[] = [];
  /** Posts to a click's response_url (any path under /actions/), as Slack receives them. */
  readonly responses: Record<string, unknown>[] = [];
  readonly attempts: number[] = [];
  throttleFirst = 0;

  protected handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    this.attempts.push(Date.now());
    if (this.throttleFirst > 0) {
      this.throttleFirst--;
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' });
      res.end('rate_limited');
      return;
    }
    if (req.headers['content-type'] !== 'application/json') {
      res.writeHead(400);
      res.end('invalid_payload');
      return;
    }
    if (req.url?.startsWith('/actions/')) this.responses.push(JSON.parse(body));
    else this.posts.push(JSON.parse(body));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }
}

/** SQS SendMessage and SendMessageBatch over its JSON protocol (AWS JSON 1.0), with the MD5s the SDK checks. */
export class SqsStandIn extends LocalEndpoint {
  readonly messages: { messageId: string; body: string }[] = [];
  /** Refuse every send (a throttled or unreachable queue). */
  refuse = false;

  protected handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const input = JSON.parse(body || '{}') as {
      MessageBody?: string;
      Entries?: { Id: string; MessageBody: string }[];
    };
    const reply = (status: number, json: object) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(json));
    };
    if (this.refuse)
      return reply(400, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'throttled' });
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const keep = (text: string) => {
      const messageId = randomUUID();
      this.messages.push({ messageId, body: text });
      return { MessageId: messageId, MD5OfMessageBody: md5(text) };
    };
    if (target === 'AmazonSQS.SendMessage' && input.MessageBody !== undefined)
      return reply(200, keep(input.MessageBody));
    if (target === 'AmazonSQS.SendMessageBatch' && input.Entries)
      return reply(200, {
        Successful: input.Entries.map((e) => ({ Id: e.Id, ...keep(e.MessageBody) })),
        Failed: [],
      });
    reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported ${target}` });
  }

  /**
   * The messages as Lambda's SQS event source hands them over (AWS Lambda Developer Guide, "Using
   * Lambda with Amazon SQS", example standard queue message event; Powertools' SqsSchema checks it).
   */
  asEvent(): { Records: Record<string, unknown>[] } {
    return {
      Records: this.messages.splice(0).map((m) => ({
        messageId: m.messageId,
        receiptHandle: `AQEB${m.messageId}`,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: '1796263513000',
          SenderId: 'AIDAIENQZJOLO23YVJ4VO',
          ApproximateFirstReceiveTimestamp: '1796263513001',
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(m.body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:csdrift-events',
        awsRegion: 'us-east-1',
      })),
    };
  }
}

/**
 * Lambda Invoke over its REST API (POST /2015-03-31/functions/{name}/invocations): an asynchronous
 * invoke (X-Amz-Invocation-Type: Event) is accepted with 202 and kept, as Lambda queues it.
 */
export class LambdaStandIn extends LocalEndpoint {
  readonly invocations: { functionName: string; invocationType: string; payload: unknown }[] = [];

  protected handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Type: 'User', message: 'not found' }));
      return;
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    this.invocations.push({
      functionName: decodeURIComponent(m[1] ?? ''),
      invocationType,
      payload: JSON.parse(body || 'null'),
    });
    res.writeHead(invocationType === 'Event' ? 202 : 200, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
    });
    res.end(invocationType === 'Event' ? '' : 'null');
  }
}
