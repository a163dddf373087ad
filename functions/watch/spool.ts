// Webhook deliveries kept on disk until their audit's verdict is written. CloudStack counts a hook
// delivered on HTTP 200 and never sends it again, so 200 is answered only once the body is here:
// a watcher killed before the audit finds the event again when it starts.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder, writeFileAtomically } from '../common/atomic-file.js';

/** A spooled file of change events already read (a JSON array of queue messages), not a CloudStack body. */
export const STORE_EVENTS_SUFFIX = '.events.json';

export interface Spooled {
  id: string;
  body: string;
}

export class EventSpool {
  constructor(private readonly dir: string) {}

  async open(): Promise<void> {
    await makeFolder(this.dir);
  }

  /** Durable (fsynced, renamed into place) before it returns. */
  async save(body: string, suffix = '.json'): Promise<string> {
    const id = `${Date.now().toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}${suffix}`;
    await writeFileAtomically(join(this.dir, id), body);
    return id;
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.dir, id), { force: true });
  }

  /** What an earlier watcher received but never finished, oldest first. */
  async pending(): Promise<Spooled[]> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json')).sort();
    const out: Spooled[] = [];
    for (const id of names) out.push({ id, body: await readFile(join(this.dir, id), 'utf8') });
    return out;
  }
}
