// CloudStack 4.20+ webhooks (plugins/event-bus/webhook): POST /events/cloudstack with the bus JSON,
// signed in X-CS-Signature (HMAC-SHA256 of the raw body with the hook's secret, base64). Only HTTP 200
// counts as delivered, and a delivery is tried three times back to back, then never again: so 200 is
// answered only once the body is in the spool (see webhook-inbox.ts).
import type { EventSpool } from '../state/spool.js';
import { STORE_EVENTS_SUFFIX } from '../state/spool.js';
import type { HttpAnswer, WebhookRoute } from './change-source.js';
import { parseBody, parseBusMessage } from './cloudstack-event.js';
import { signatureMatches } from './webhook-signature.js';
import { WebhookInbox, WebhookSource } from './webhook-inbox.js';

export class CloudStackWebhookSource extends WebhookSource {
  readonly name = 'webhook';
  readonly kind = 'webhook' as const;
  readonly description = 'CloudStack webhooks (POST /events/cloudstack)';
  readonly route: WebhookRoute = {
    path: '/events/cloudstack',
    // The HMAC needs the whole body; a delivery with no signature at all is refused before it.
    refuse: (headers) => (headers['x-cs-signature'] ? null : this.refused()),
    handle: (body, headers) => this.delivery(body, headers['x-cs-signature']),
  };

  constructor(
    private readonly secret: string,
    spool: EventSpool,
  ) {
    super(
      new WebhookInbox(
        spool,
        (id) => !id.endsWith(STORE_EVENTS_SUFFIX),
        (body) => {
          const event = parseBusMessage(body, 'webhook', () => new Date());
          return event ? [event] : [];
        },
        '.json',
      ),
    );
  }

  private refused(): HttpAnswer {
    const ctx = this.taking();
    if ('status' in ctx) return ctx;
    ctx.dropped('signature', 'bad or missing X-CS-Signature');
    return { status: 401, body: 'bad or missing X-CS-Signature\n' };
  }

  private async delivery(body: Buffer, signature: string | string[] | undefined): Promise<HttpAnswer> {
    const ctx = this.taking();
    if ('status' in ctx) return ctx;
    if (!signatureMatches(this.secret, body, typeof signature === 'string' ? signature : undefined))
      return this.refused();
    ctx.received();
    const text = body.toString('utf8');
    const event = parseBody(ctx, text, 'webhook');
    if (!event) return { status: 200, body: 'not an event csdrift audits\n' };
    await this.inbox.take(text, [event]);
    return { status: 200, body: 'queued\n' };
  }
}
