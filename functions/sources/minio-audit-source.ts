// MinIO's audit webhook (`mc admin config set … audit_webhook:…`) posting to POST /events/minio, or
// /events/minio/<store> to name the store it comes from. The Authorization value must be the
// configured token exactly (compared in constant time). Its bucket events are spooled before the 200:
// MinIO does not send an entry twice.
import type { EventSpool } from '../state/spool.js';
import { STORE_EVENTS_SUFFIX } from '../state/spool.js';
import type { HttpAnswer, WebhookRoute } from './change-source.js';
import { MalformedEventError } from './cloudstack-event.js';
import { parseMinioAudit } from './minio-event.js';
import { fromQueued, toQueueMessage } from './queued-event.js';
import { tokenMatches } from './webhook-signature.js';
import { WebhookInbox, WebhookSource } from './webhook-inbox.js';

export class MinioAuditSource extends WebhookSource {
  readonly name = 'minio-audit';
  readonly kind = 'minio-audit' as const;
  readonly description = "MinIO's audit webhook (POST /events/minio)";
  readonly route: WebhookRoute = {
    path: '/events/minio',
    withName: true,
    // The token is a header: an unauthorised client is refused before its body is read.
    refuse: (headers) => this.refusal(headers.authorization),
    handle: (body, headers, store) => this.delivery(body, headers.authorization, store),
  };

  constructor(
    private readonly token: string,
    spool: EventSpool,
  ) {
    super(
      new WebhookInbox(
        spool,
        (id) => id.endsWith(STORE_EVENTS_SUFFIX),
        (body) => (JSON.parse(body) as unknown[]).map(fromQueued),
        STORE_EVENTS_SUFFIX,
      ),
    );
  }

  private refusal(authorization: string | undefined): HttpAnswer | null {
    if (tokenMatches(this.token, authorization)) return null;
    const ctx = this.taking();
    if ('status' in ctx) return ctx;
    ctx.dropped('signature', 'bad or missing Authorization');
    return { status: 401, body: 'bad or missing Authorization\n' };
  }

  private async delivery(
    body: Buffer,
    authorization: string | undefined,
    store: string | undefined,
  ): Promise<HttpAnswer> {
    const ctx = this.taking();
    if ('status' in ctx) return ctx;
    const refused = this.refusal(authorization);
    if (refused) return refused;
    let events;
    try {
      events = parseMinioAudit(body.toString('utf8'), store, () => new Date());
    } catch (err) {
      ctx.dropped('malformed', err instanceof MalformedEventError ? err.message : 'not a MinIO audit entry');
      return { status: 400, body: 'not a MinIO audit entry\n' };
    }
    ctx.received();
    if (!events.length) return { status: 200, body: 'nothing csdrift audits\n' };
    await this.inbox.take(`[${events.map(toQueueMessage).join(',')}]`, events);
    return { status: 200, body: 'queued\n' };
  }
}
