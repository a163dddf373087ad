// A store's failure becomes a coverage status. Nothing here ever reads as "absent".
import { CsdriftError, StoreError, faultText } from '../core/errors.js';
import type { CoverageStatus } from '../core/model.js';

export class ListingCutShortError extends StoreError {
  override name = 'ListingCutShortError';
}

/** A targeted audit's bucket the store would not answer about (a 403, say): the scan is partial. */
export class BucketLookUpError extends StoreError {
  override name = 'BucketLookUpError';
  constructor(bucket: string, detail: string, options?: { cause?: unknown }) {
    super(`could not look up bucket ${bucket}: ${detail}`, options);
  }
}

/** A store's 200 whose body is not the document asked for (a listing, a proxy's HTML page, nothing). */
export class NotTheDocumentError extends StoreError {
  override name = 'NotTheDocumentError';
}

const AUTH_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'Forbidden',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** System and TLS error codes of a connection (ECONNRESET, EPROTO, CERT_HAS_EXPIRED, HPE_INVALID_CONSTANT, …). */
const CONNECTION_CODE =
  /^(E[A-Z0-9_]+|ERR_SSL_|ERR_TLS_|ERR_STREAM_PREMATURE_CLOSE|ERR_HTTP|HPE_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;
const TIMEOUT_NAME = /timeout|abort/i;

/**
 * Whether an error is the store's doing: an HTTP answer (whatever its status, a body the client
 * could not parse included), a network or TLS failure, a timeout, or a listing or document that
 * was not what was asked. Anything else (a TypeError, a RangeError) is a fault of csdrift's own:
 * never retried, and never allowed to label a store partial or unreachable.
 */
export function isStoreFault(err: unknown): boolean {
  if (
    err instanceof ListingCutShortError ||
    err instanceof NotTheDocumentError ||
    err instanceof BucketLookUpError
  )
    return true;
  if (httpStatusOf(err) !== undefined) return true;
  const e = err as { name?: unknown; code?: unknown } | null;
  if (typeof e?.code === 'string' && CONNECTION_CODE.test(e.code)) return true;
  return typeof e?.name === 'string' && TIMEOUT_NAME.test(e.name);
}

/** A fault of csdrift's own met while scanning a store; the original error is its cause. */
export class InternalScanError extends CsdriftError {
  override name = 'InternalScanError';
  constructor(cause: unknown) {
    super(faultText(cause), { cause });
  }
}

/** Rethrows a fault of csdrift's own as an InternalScanError, so no store-level catch can take it for the store's. */
export function storeFaultOrThrow(err: unknown): unknown {
  if (err instanceof InternalScanError) throw err;
  if (!isStoreFault(err)) throw new InternalScanError(err);
  return err;
}

export function httpStatusOf(err: unknown): number | undefined {
  const e = err as {
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
    statusCode?: number;
  };
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode ?? e?.statusCode;
}

export function describeError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  const status = httpStatusOf(err);
  const name = e?.code && NETWORK_CODES.has(e.code) ? e.code : (e?.name ?? 'Error');
  // Not cut here: the caller redacts first, then cuts (redact.ts), so no secret's prefix survives.
  const message = (e?.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 4000);
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/** The status a store gets when its listing failed with this error. */
export function listingFailureStatus(err: unknown): CoverageStatus {
  if (err instanceof ListingCutShortError || err instanceof BucketLookUpError) return 'partial';
  const e = err as { name?: string; code?: string };
  const status = httpStatusOf(err);
  if (status === 401 || status === 403 || AUTH_NAMES.has(e?.name ?? '')) return 'auth_failed';
  // The store said OK but the client could not read the body: a listing cut short or garbled.
  if (status !== undefined && status < 300) return 'partial';
  return 'unreachable';
}

export function isRetryable(err: unknown): boolean {
  const status = httpStatusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  // Network errors, resets, timeouts, a listing cut short; never a fault of our own.
  return isStoreFault(err) && !(err instanceof NotTheDocumentError);
}
