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

  /**
   * What an earlier watcher received but never finished, oldest first. An entry that is not a file
   * this watcher wrote (a folder or a FIFO under a delivery's name) is skipped and told to `warn`
   * with its path; it never stops the start.
   */
  async pending(warn: (message: string) => void = () => {}): Promise<Spooled[]> {
    const skipped = (location: string, what: string) =>
      warn(`spool: skipped ${location}: not a regular file (${what}); move it away`);
    const ids = (await this.storage.list(SPOOL, skipped))
      .map((key) => key.slice(SPOOL.length))
      .filter((id) => id.endsWith('.json') && !id.includes('/'))
      .sort();
    const out: Spooled[] = [];
    for (const id of ids) {
      let got;
      try {
        got = await this.storage.read(`${SPOOL}${id}`);
      } catch (err) {
        // Swapped for something else after the listing, or unreadable: this entry only.
        warn(`spool: skipped ${this.storage.location(`${SPOOL}${id}`)}: ${(err as Error).message}`);
        continue;
      }
      if (got) out.push({ id, body: got.text });
    }
    return out;
  }
}
