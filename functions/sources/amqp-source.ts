// CloudStack's RabbitMQ event bus. Our own durable queue, bound to the bucket and object store event
// keys as CloudStack routes them (RabbitMQEventBus.java); a message is acknowledged only once the
// audit it started has written its verdict, so a watcher that dies mid-audit gets it again. When the
// broker goes away, amqplib's recovery reconnects with backoff and `setup` declares everything again.
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { redact } from '../common/redact.js';
import type { ChangeSource, SourceContext } from './change-source.js';
import { AMQP_BINDING_KEYS, parseBody } from './cloudstack-event.js';

export interface AmqpSourceOptions {
  url: string;
  exchange: string;
  queue: string;
  /** Unacknowledged messages one watcher holds at most: a storm waits in the broker, not in memory. */
  prefetch?: number;
}

export class AmqpSource implements ChangeSource {
  readonly name = 'amqp';
  readonly kind = 'amqp' as const;
  private model: RecoveringChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private ctx: SourceContext | undefined;
  private paused = false;

  constructor(private readonly options: AmqpSourceOptions) {}

  get description(): string {
    return `RabbitMQ (${this.options.queue} on ${this.where})`;
  }

  /** Where the broker is, for people: never its password. */
  get where(): string {
    try {
      const u = new URL(this.options.url);
      return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'amqps:' ? 5671 : 5672)}${u.pathname || '/'}`;
    } catch {
      return 'the broker (URL not shown)';
    }
  }

  /** Connects in the background: a broker that is down at start is retried like one that went away. */
  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    const { exchange, queue } = this.options;
    this.model = await connect(this.options.url, {
      recovery: {
        initialDelay: 500,
        maxDelay: 30_000,
        maxRetries: Infinity,
        waitForConnect: false,
        setup: async (model: ChannelModel) => {
          const channel = await model.createChannel();
          // As CloudStack declares it on every publish: a durable topic exchange.
          await channel.assertExchange(exchange, 'topic', { durable: true });
          await channel.assertQueue(queue, { durable: true });
          for (const key of AMQP_BINDING_KEYS) await channel.bindQueue(queue, exchange, key);
          await channel.prefetch(this.options.prefetch ?? 1000);
          this.channel = channel;
          this.consumerTag = undefined;
          if (!this.paused) await this.consume();
          ctx.health(true, `consuming ${queue} on ${this.where}`);
        },
      },
    });
    this.model.on('disconnect', (err: Error) =>
      ctx.health(false, `lost ${this.where}: ${this.clean(err)}; reconnecting`),
    );
    this.model.on('connect-failed', (err: Error) =>
      ctx.health(false, `cannot reach ${this.where}: ${this.clean(err)}; retrying`),
    );
    this.model.on('error', () => {}); // reported through disconnect; never an unhandled 'error'
  }

  /** An error's text without the URL's user and password, whatever the library put in it. */
  private clean(err: Error): string {
    let user = '';
    let password = '';
    try {
      const u = new URL(this.options.url);
      user = decodeURIComponent(u.username);
      password = decodeURIComponent(u.password);
    } catch {
      // no URL, nothing of it to hide
    }
    return redact(redact(err.message, [this.options.url, password]), user.length >= 4 ? [user] : []);
  }

  private async consume(): Promise<void> {
    const channel = this.channel;
    if (!channel || this.consumerTag) return;
    const { consumerTag } = await channel.consume(
      this.options.queue,
      (msg: ConsumeMessage | null) => this.deliver(channel, msg),
      { noAck: false },
    );
    this.consumerTag = consumerTag;
  }

  private deliver(channel: Channel, msg: ConsumeMessage | null): void {
    const ctx = this.ctx;
    if (!msg || !ctx) return; // the broker cancelled the consumer (queue deleted): recovery sets it up again
    let settled = false;
    const ack = () => {
      if (settled) return;
      settled = true;
      try {
        channel.ack(msg);
      } catch {
        // The channel died after the verdict: the broker delivers it again, and it is audited again.
      }
    };
    ctx.received();
    const event = parseBody(ctx, msg.content.toString('utf8'), 'amqp');
    // Malformed, or of no interest: dropped and acknowledged, never redelivered for ever.
    if (!event) return ack();
    ctx.emit(event, ack);
  }

  /** Takes no more messages (the consumer is cancelled): what comes waits in the queue. */
  pause(): void {
    this.paused = true;
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    if (channel && consumerTag) void channel.cancel(consumerTag).catch(() => {});
  }

  resume(): void {
    this.paused = false;
    void this.consume().catch(() => {}); // a dead channel: recovery consumes again when it comes back
  }

  /** Closing the channel waits for the broker's answer: every acknowledgement given is through. */
  async stop(): Promise<void> {
    this.paused = true;
    // Closing the channel first waits for the broker's answer: every acknowledgement is through.
    await this.channel?.close().catch(() => {});
    await this.model?.close().catch(() => {});
  }
}
