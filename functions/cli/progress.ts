// Progress for people, on standard error, so that --json keeps standard output clean.
import type { AuditProgress } from '../audit.js';

/** With `quiet`, only csdrift's own internal errors, which always deserve a line and a stack. */
export function progressPrinter(
  write: (line: string) => void,
  { quiet = false }: { quiet?: boolean } = {},
): (event: AuditProgress) => void {
  return (event) => {
    if (quiet && event.kind !== 'internal-error') return;
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
          `[${event.index + 1}/${event.total}] ${event.store.name}: ${s.status}, ${event.listed} bucket(s) listed, ${s.requests} request(s)${detail}`,
        );
      }
      case 'internal-error': {
        // A bug of ours: named, with its stack, so it can be reported; the store is not blamed.
        const cause = (event.error.cause as Error | undefined) ?? event.error;
        write(
          `${event.store.name}: internal error of csdrift (not the store's fault): ${event.error.message}`,
        );
        for (const line of (cause.stack ?? '').split('\n').slice(1, 8)) write(`  ${line.trim()}`);
        return;
      }
    }
  };
}
