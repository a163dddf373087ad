// Webhook deliveries kept in the watcher's state storage until their audit's verdict is written.
// CloudStack counts a hook delivered on HTTP 200 and never sends it again, so 200 is answered only
// once the body is stored (written whole and flushed): a watcher killed before the audit finds the
// event again when it starts.
import { randomBytes } from 'node:crypto';
import type { StateStorage } from '../state/storage.js';

/** A spooled file of change events already read (a JSON array of queue messages), not a CloudStack body. */
export const STORE_EVENTS_SUFFIX = '.events.json';
const SPOOL = 'spool/';

export interface Spooled {
  id: string;
  body: string;
}

export class EventSpool {
  constructor(private readonly storage: StateStorage) {}

  /** Durable before it returns. */
  async save(body: string, suffix = '.json'): Promise<string> {
    const id = `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}${suffix}`;
    await this.storage.put(`${SPOOL}${id}`, body, 'application/json');
    return id;
  }

  async remove(id: string): Promise<void> {
    await this.storage.remove(`${SPOOL}${id}`);
  }

  /** What an earlier watcher received but never finished, oldest first. */
  async pending(): Promise<Spooled[]> {
    const ids = (await this.storage.list(SPOOL))
      .map((key) => key.slice(SPOOL.length))
      .filter((id) => id.endsWith('.json') && !id.includes('/'))
      .sort();
    const out: Spooled[] = [];
    for (const id of ids) {
      const got = await this.storage.read(`${SPOOL}${id}`);
      if (got) out.push({ id, body: got.text });
    }
    return out;
  }
}
