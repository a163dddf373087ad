// What reading a store's users shares across providers (rgw-principals.ts, minio-principals.ts): an
// owner's user the listing lacks is asked about directly, and a failure is an answer of its own kind.
import type { Observed, StorePrincipals } from '../core/model.js';
import { ListingCutShortError, describeError, httpStatusOf, storeFaultOrThrow } from './classify.js';

/** Every name of each expected user none of whose names is listed: the ones to ask about. */
export function unlisted(expected: Iterable<string[]>, isListed: (name: string) => boolean): string[] {
  const asked = new Set<string>();
  for (const names of expected) if (!names.some(isListed)) for (const name of names) asked.add(name);
  return [...asked];
}

/**
 * A user the listing lacks, asked about directly: only a 404 confirms it is not there. Found, the
 * listing was cut short; any other answer fails the reading too.
 */
export async function confirmAbsent(lookUp: () => Promise<unknown>, cutShort: string): Promise<void> {
  try {
    await lookUp();
  } catch (err) {
    if (httpStatusOf(err) === 404) return;
    throw err;
  }
  throw new ListingCutShortError(cutShort);
}

/**
 * A reading that failed: refused (403) is the store saying the admin may not list users, which makes
 * the key rules not applicable with `grant` said; anything else is no answer (unverified).
 */
export function principalsFailure(err: unknown, grant: string): Observed<StorePrincipals> {
  storeFaultOrThrow(err);
  if (httpStatusOf(err) === 403)
    return { value: { principals: [], refused: `the store refused to list its users: ${grant}` } };
  return { error: `the store's users could not be read: ${describeError(err)}` };
}
