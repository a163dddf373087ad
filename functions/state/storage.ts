// The one interface for everything that must survive a run: the ledger, the run history, source
// cursors, the watcher's spool, the fan-out's scans, and the views (runs/, latest/, current/). A
// folder and an S3 prefix are its two back-ends, with the same layout.
//
// Conditional writes are how overlapping runs never clobber each other: `putIf` replaces a key only
// while it still holds the version read (a folder: under a lock, by content hash; S3: If-Match on the
// ETag, If-None-Match when there was none) and throws StateConflictError otherwise. The one loop that
// reads again and retries is conflicts.ts.

/** A key's text and the version it was read at (a content hash or an ETag). */
export interface Versioned {
  text: string;
  version: string;
}

export interface StateStorage {
  /** Where a key lives, for people: a path or an s3:// URI. Never holds a secret. */
  location(key: string): string;
  /** A key's text and version, or null when there is none. */
  read(key: string): Promise<Versioned | null>;
  /** Written whole or not at all (a folder: temp file, fsync, rename), whatever was there. */
  put(key: string, body: string, contentType: string): Promise<void>;
  /**
   * Written only if the key still holds `expected` (null: only if there is none), returning the new
   * version; otherwise StateConflictError and nothing is written.
   */
  putIf(key: string, body: string, expected: string | null): Promise<string>;
  /**
   * Every key under a prefix (`runs/`), in no particular order. Only what this tool could have
   * written is a key: anything else found there (a folder where a file belongs, a FIFO, a link) is
   * left out and told to `onSkipped` with its location and what it is.
   */
  list(prefix: string, onSkipped?: (location: string, what: string) => void): Promise<string[]>;
  /** Gone, if it was there. */
  remove(key: string): Promise<void>;
}
