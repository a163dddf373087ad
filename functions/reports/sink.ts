import type { Ledger } from '../core/ledger.js';

export const LEDGER_KEY = 'state/ledger.json';

export interface StoredLedger {
  ledger: Ledger | null;
  /** What the ledger was when read (an ETag or a content hash); null when there was none. */
  version: string | null;
}

/** Where reports and the ledger go: a folder or an S3 prefix, with the same layout. */
export interface ReportSink {
  /** Where a key lives, for people: a path or an s3:// URI. Never holds a secret. */
  location(key: string): string;
  readLedger(): Promise<StoredLedger>;
  put(key: string, body: string, contentType: string): Promise<void>;
  /** A key's text, or null when there is none. */
  get(key: string): Promise<string | null>;
  /** Every key under a prefix (`runs/`), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Writes the ledger only if it is still the version read, and returns the new version; otherwise LedgerConflictError. */
  putLedger(body: string, expectedVersion: string | null): Promise<string>;
  /** Another file of state/ (the run history), read with its version… */
  readState(key: string): Promise<{ text: string | null; version: string | null }>;
  /** …and written as safely as the ledger: only over the version read. */
  putState(key: string, body: string, expectedVersion: string | null): Promise<string>;
}
