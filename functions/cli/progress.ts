// Progress for people, on standard error, so that --json keeps standard output clean.
import type { AuditProgress } from '../audit.js';

export function progressPrinter(write: (line: string) => void): (event: AuditProgress) => void {
  return (event) => {
    switch (event.kind) {
      case 'inventory':
        return write(`reading the CloudStack database ${event.database}…`);
      case 'inventory-read':
        return write(`CloudStack ${event.schema}: ${event.stores} store(s), ${event.buckets} bucket row(s)`);
      case 'store-start':
        return write(
          `[${event.index + 1}/${event.total}] scanning ${event.store.name} (${event.store.provider}) at ${event.store.endpoint}…`,
        );
      case 'store-done': {
        const s = event.scan;
        const detail = s.error ? `: ${s.error}` : '';
        return write(
          `[${event.index + 1}/${event.total}] ${event.store.name}: ${s.status}, ${s.buckets.length} bucket(s) listed, ${s.requests} request(s)${detail}`,
        );
      }
    }
  };
}
