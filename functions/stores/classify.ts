// A store's failure becomes a coverage status. Nothing here ever reads as "absent".
import type { CoverageStatus } from '../core/model.js';

export class ListingCutShortError extends Error {
  override name = 'ListingCutShortError';
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
  const message = (e?.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 240);
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${message}`;
}

/** The status a store gets when its listing failed with this error. */
export function listingFailureStatus(err: unknown): CoverageStatus {
  if (err instanceof ListingCutShortError) return 'partial';
  const e = err as { name?: string; code?: string };
  const status = httpStatusOf(err);
  if (status === 401 || status === 403 || AUTH_NAMES.has(e?.name ?? '')) return 'auth_failed';
  // The store said OK but the client could not read the body: a listing cut short or garbled.
  if (status !== undefined && status < 300) return 'partial';
  if (status === undefined && !NETWORK_CODES.has(e?.code ?? '') && !/timeout|abort/i.test(e?.name ?? '')) {
    // The store answered something the client could not read: a body cut short or garbled.
    return 'partial';
  }
  return 'unreachable';
}

export function isRetryable(err: unknown): boolean {
  const status = httpStatusOf(err);
  if (status !== undefined) return status === 429 || status >= 500;
  return true; // network errors, resets, timeouts
}
