// Bounds on what a store may make the auditor hold: a hostile or broken store can answer with a
// 400 MiB error page, a listing of millions of entries or 10 MB of nested brackets. Past a bound the
// store is `partial`, with the reason; memory stays bounded whatever it sends.
import { ListingCutShortError } from './classify.js';

/** A response body as the store sends it, read in chunks. */
export type Body = AsyncIterable<Buffer>;

/** An error answer is read only as far as its code can be: the rest is never needed. */
export const ERROR_BODY_BYTES = 64 * 1024;
/** Deeper than any real listing or admin document nests (an RGW stats entry is 4 levels deep). */
export const MAX_NESTING = 64;

/** The body, failing once it has brought more than `maxBytes`; the stream is destroyed then. */
export async function* capped(body: Body, maxBytes: number, what: string): Body {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      (body as { destroy?: () => void }).destroy?.();
      throw tooLarge(what, maxBytes);
    }
    yield chunk;
  }
}

/** An answer past scan.maxBodyMiB: not read on, the store partial. */
export function tooLarge(what: string, maxBytes: number): ListingCutShortError {
  return new ListingCutShortError(
    `${what} answered with more than ${Math.round(maxBytes / 1024 ** 2)} MiB: not read on (scan.maxBodyMiB)`,
  );
}

/** At most `maxBytes` of a body as text; the rest is left unread and the stream destroyed. */
export async function boundedText(body: Body, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= maxBytes) {
      (body as { destroy?: () => void }).destroy?.();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** A count that fails past `max`: a listing of more buckets than scan.maxBuckets. */
export function entryCounter(max: number, what: string): () => void {
  let count = 0;
  return () => {
    count += 1;
    if (count > max)
      throw new ListingCutShortError(
        `${what} listed more than ${max} buckets: not read on (scan.maxBuckets)`,
      );
  };
}

/**
 * Watches JSON as it streams in and fails once it nests deeper than MAX_NESTING: a parser handed
 * `[[[[…` builds every level before it can complain.
 */
export function jsonNestingGuard(what: string): (chunk: Buffer) => void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  return (chunk) => {
    // Indexed, not `for…of`: a million answers pass through here, and the iterator cost four times
    // as much (7 µs against 1.6 µs for a 1.7 KB bucket instance document).
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === 0x5c) escaped = true;
        else if (byte === 0x22) inString = false;
      } else if (byte === 0x22) inString = true;
      else if (byte === 0x5b || byte === 0x7b) {
        depth += 1;
        if (depth > MAX_NESTING)
          throw new ListingCutShortError(
            `${what} answered with JSON nested deeper than ${MAX_NESTING} levels`,
          );
      } else if (byte === 0x5d || byte === 0x7d) depth -= 1;
    }
  };
}

/** `{` and `[`. */
const OPENERS = [0x7b, 0x5b];

/**
 * The same check for a whole document, before it is parsed. A text of no more than MAX_NESTING
 * brackets cannot nest deeper, and almost none has more: counted natively first, the byte-by-byte
 * watch runs only past that (1 µs against 8 for a 1.6 KB bucket instance document, a million of them
 * a night at a million buckets).
 */
export function checkNesting(text: Buffer, what: string): void {
  let openers = 0;
  for (const opener of OPENERS)
    for (let at = text.indexOf(opener); at >= 0 && openers <= MAX_NESTING; at = text.indexOf(opener, at + 1))
      openers += 1;
  if (openers > MAX_NESTING) jsonNestingGuard(what)(text);
}
