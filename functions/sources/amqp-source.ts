// CloudStack's RabbitMQ event bus. Our own durable queue, bound to the bucket and object store event
// keys as CloudStack routes them (RabbitMQEventBus.java); a message is acknowledged only once the
// audit it started has written its verdict, so a watcher that dies mid-audit gets it again. When the
// broker goes away, amqplib's recovery reconnects with backoff and `setup` declares everything again.
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { AMQP_BINDING_KEYS } from './cloudstack-event.js';
import { redact } from '../common/redact.js';

export interface AmqpSourceOptions {
  url: string;
  exchange: string;
  queue: string;
  /** Each delivery's body, with how to settle it: `done` acknowledges it, after the verdict. */
  onMessage: (body: string, done: () => void) => void;
  onState: (up: boolean, detail: string) => void;
  /** Unacknowledged messages one watcher holds at most: a storm waits in the broker, not in memory. */
  prefetch?: number;
}

export class AmqpSource {
  private model: RecoveringChannelModel | undefined;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;

  constructor(private readonly options: AmqpSourceOptions) {}

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
  async start(): Promise<void> {
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
          const { consumerTag } = await channel.consume(
            queue,
            (msg: ConsumeMessage | null) => this.deliver(channel, msg),
            {
              noAck: false,
            },
          );
          this.channel = channel;
          this.consumerTag = consumerTag;
          this.options.onState(true, `consuming ${queue} on ${this.where}`);
        },
      },
    });
    this.model.on('disconnect', (err: Error) =>
      this.options.onState(false, `lost ${this.where}: ${this.clean(err)}; reconnecting`),
    );
    this.model.on('connect-failed', (err: Error) =>
      this.options.onState(false, `cannot reach ${this.where}: ${this.clean(err)}; retrying`),
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

  private deliver(channel: Channel, msg: ConsumeMessage | null): void {
    if (!msg) return; // the broker cancelled the consumer (queue deleted): recovery sets it up again
    let settled = false;
    this.options.onMessage(msg.content.toString('utf8'), () => {
      if (settled) return;
      settled = true;
      try {
        channel.ack(msg);
      } catch {
        // The channel died after the verdict: the broker delivers it again, and it is audited again.
      }
    });
  }

  /** Stops taking messages; those not acknowledged go back to the queue when the connection closes. */
  async pause(): Promise<void> {
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => {});
  }

  async stop(): Promise<void> {
    // Closing the channel first waits for the broker's answer: every acknowledgement is through.
    await this.channel?.close().catch(() => {});
    await this.model?.close().catch(() => {});
  }
}
