// Ceph RGW's buckets, listed by owner: the paged user listing (`GET /admin/metadata/user`), then each
// user's buckets with their stats (`GET /admin/bucket?uid=&stats=true`), `concurrency` users at a time.
// RGW's one-shot listing (`GET /admin/bucket?stats=true` without a uid) computes every bucket's usage
// before it says a word and answers in one body: about 750 bytes a bucket, so 750 MB at a million,
// silent for minutes. A user's listing is one shard of the store: small, prompt, and retried alone.
// The paged bucket-name listing (`GET /admin/metadata/bucket`, no stats: cheap) then proves no bucket
// was left out: the scan looks up each name no user's listing showed (scan-store.ts); one whose owner
// was listed means that listing lied (cut short), one whose owner was not (a Squid account's bucket,
// a user the user listing lost) is added with its own stats.
// An admin without the `metadata=read` cap may not list users: its store is listed the old way, in
// one piece, as before 0.10 (slow and silent at scale: grant the cap).
import pMap from 'p-map';
import * as z from 'zod';
import type { AdminApiClient } from './admin-api.js';
import { AdminApiError } from './admin-api.js';
import { ListingCutShortError, httpStatusOf } from './classify.js';
import type { TransportOptions } from './http.js';
import { DEFAULT_MAX_BUCKETS } from './http.js';

/** Keys per page of a metadata listing: RGW's own default page of bucket listings. */
export const METADATA_PAGE = 1000;

/** `GET /admin/metadata/<section>?max-entries=`: one page (rgw_rest_metadata.cc RGWOp_Metadata_List). */
const metadataPage = z.union([
  z.array(z.string()),
  z.looseObject({
    keys: z.array(z.string()),
    truncated: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
    marker: z.string().optional(),
  }),
]);

/**
 * Every key of a metadata section (`user`: uids, `bucket`: bucket names, `tenant/name` for a tenant's),
 * page by page, each handed on as its page arrives. A page that says it is truncated but gives no
 * new marker is a listing cut short.
 */
export async function eachMetadataKey(
  admin: AdminApiClient,
  section: 'user' | 'bucket',
  maxKeys: number,
  onKey: (key: string) => void,
  pageSize = METADATA_PAGE,
): Promise<void> {
  let marker: string | undefined;
  let count = 0;
  for (;;) {
    const query: Record<string, string> = { format: 'json', 'max-entries': String(pageSize) };
    if (marker) query.marker = marker;
    const page = await admin.get(`metadata/${section}`, query, metadataPage);
    // An RGW that does not page answers with the whole list at once.
    const got = Array.isArray(page) ? page : page.keys;
    count += got.length;
    if (count > maxKeys)
      throw new ListingCutShortError(
        `GET /admin/metadata/${section} listed more than ${maxKeys} keys: not read on (scan.maxBuckets)`,
      );
    for (const key of got) onKey(key);
    if (Array.isArray(page) || !(page.truncated === true || page.truncated === 'true')) return;
    if (!page.marker || page.marker === marker)
      throw new ListingCutShortError(
        `GET /admin/metadata/${section} said its listing goes on but gave no new marker`,
      );
    marker = page.marker;
  }
}

/**
 * Every key of a metadata section, as one set in listing order (the users: thousands, not millions).
 * A set, not a list: the listing and the reading of users ask it whether it has a user, and ten
 * thousand uids are held once, not as a list and a set beside it.
 */
export async function metadataKeys(
  admin: AdminApiClient,
  section: 'user' | 'bucket',
  maxKeys: number,
  pageSize = METADATA_PAGE,
): Promise<ReadonlySet<string>> {
  const keys = new Set<string>();
  await eachMetadataKey(admin, section, maxKeys, (key) => keys.add(key), pageSize);
  return keys;
}

/** The fields of a stats entry that name a bucket and its owner; the adapter picks the rest. */
interface NamedEntry {
  bucket?: unknown;
  tenant?: unknown;
  owner?: unknown;
}

export interface OwnerListing<T extends NamedEntry> {
  /** The store's users, as listed: shared with the reading of users and keys (rgw-principals.ts). */
  uids: () => Promise<ReadonlySet<string>>;
  /** Each user's buckets as `pick` reduces their stats entries, each handed on as its user's listing arrives. */
  buckets: (pick: (raw: unknown) => T, onEntry: (entry: T) => void) => Promise<void>;
  /** Every bucket name the store has (no stats), each handed on: what the listing must not have left out. */
  names: (onName: (name: string) => void) => Promise<void>;
  /** Whether the listing asked this owner for its buckets (none after a one-shot listing: it asked nobody). */
  listsOwner: (owner: string) => boolean;
}

export function rgwOwnerListing<T extends NamedEntry>(
  admin: AdminApiClient,
  listing: AdminApiClient,
  options: TransportOptions,
): OwnerListing<T> {
  const max = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  let users: Promise<ReadonlySet<string>> | undefined;
  // Read once per scan, whoever asks first; a failure fails every reader alike.
  const uids = () => (users ??= metadataKeys(admin, 'user', max));
  let asked: ReadonlySet<string> = new Set<string>();
  let oneShot = false;
  return {
    uids,
    listsOwner: (owner) => asked.has(owner),
    async buckets(pick, onEntry) {
      let owners: ReadonlySet<string>;
      try {
        owners = await uids();
      } catch (err) {
        if (httpStatusOf(err) !== 403) throw err;
        oneShot = true;
        await listing.eachOfList('bucket', { stats: 'true', format: 'json' }, pick, onEntry, max);
        return;
      }
      asked = owners;
      let total = 0;
      const counted = (raw: unknown): T => {
        total += 1;
        if (total > max)
          throw new ListingCutShortError(
            `GET /admin/bucket?stats=true listed more than ${max} buckets: not read on (scan.maxBuckets)`,
          );
        return pick(raw);
      };
      // pMap takes the next user only as one finishes: ten thousand users are never ten thousand
      // waiting tasks (p-limit queues them all at once), and the first failure stops the rest.
      await pMap(
        owners,
        async (uid) => {
          // One user's buckets (1,000 at most by RGW's default): small enough to parse at once.
          const entries = await listing.getSmallList(
            'bucket',
            { uid, stats: 'true', format: 'json' },
            counted,
            max,
          );
          for (const entry of entries) onEntry(entry);
        },
        { concurrency: options.concurrency },
      );
    },
    async names(onName) {
      // After a one-shot listing there is nothing to prove: it was every bucket at once.
      if (oneShot) return;
      await eachMetadataKey(admin, 'bucket', max, (key) => onName(key.replace('/', ':')));
    },
  };
}

/** RGW's answer for a bucket it does not have (an admin API 404 for anything else says nothing). */
export function isNoSuchBucket(err: unknown): boolean {
  return (
    err instanceof AdminApiError && err.$metadata.httpStatusCode === 404 && err.storeCode === 'NoSuchBucket'
  );
}
