// Ceph RGW's buckets, listed by owner: the paged user listing (`GET /admin/metadata/user`), then each
// user's buckets with their stats (`GET /admin/bucket?uid=&stats=true`), `concurrency` users at a time.
// RGW's one-shot listing (`GET /admin/bucket?stats=true` without a uid) computes every bucket's usage
// before it says a word and answers in one body: about 750 bytes a bucket, so 750 MB at a million,
// silent for minutes. A user's listing is one shard of the store: small, prompt, and retried alone.
// The paged bucket-name listing (`GET /admin/metadata/bucket`, no stats: cheap) then proves no bucket
// was left out: a name no user's listing showed is looked up directly; one whose owner was listed
// means that listing lied (cut short), one whose owner was not (a Squid account's bucket, a user the
// user listing lost) is added with its own stats.
// An admin without the `metadata=read` cap may not list users: its store is listed the old way, in
// one piece, as before 0.10 (slow and silent at scale: grant the cap).
import pLimit from 'p-limit';
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
 * page by page. A page that says it is truncated but gives no new marker is a listing cut short.
 */
export async function metadataKeys(
  admin: AdminApiClient,
  section: 'user' | 'bucket',
  maxKeys: number,
  pageSize = METADATA_PAGE,
): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const query: Record<string, string> = { format: 'json', 'max-entries': String(pageSize) };
    if (marker) query.marker = marker;
    const page = await admin.get(`metadata/${section}`, query, metadataPage);
    // An RGW that does not page answers with the whole list at once.
    const got = Array.isArray(page) ? page : page.keys;
    keys.push(...got);
    if (keys.length > maxKeys)
      throw new ListingCutShortError(
        `GET /admin/metadata/${section} listed more than ${maxKeys} keys: not read on (scan.maxBuckets)`,
      );
    if (Array.isArray(page) || !(page.truncated === true || page.truncated === 'true')) return keys;
    if (!page.marker || page.marker === marker)
      throw new ListingCutShortError(
        `GET /admin/metadata/${section} said its listing goes on but gave no new marker`,
      );
    marker = page.marker;
  }
}

/** The fields of a stats entry that name a bucket and its owner; the adapter picks the rest. */
interface NamedEntry {
  bucket?: unknown;
  tenant?: unknown;
  owner?: unknown;
}

export interface OwnerListing<T extends NamedEntry> {
  /** The store's users, as listed: shared with the reading of users and keys (rgw-principals.ts). */
  uids: () => Promise<string[]>;
  /** Each user's buckets as `pick` reduces their stats entries, then the left-out check. */
  buckets: (pick: (raw: unknown) => T) => Promise<T[]>;
}

/** The name a listing entry stands for: `tenant:name` for a tenant's bucket, as S3 addresses it. */
export function entryName(entry: NamedEntry): string {
  return entry.tenant ? `${String(entry.tenant)}:${String(entry.bucket)}` : String(entry.bucket);
}

export function rgwOwnerListing<T extends NamedEntry>(
  admin: AdminApiClient,
  listing: AdminApiClient,
  options: TransportOptions,
): OwnerListing<T> {
  const max = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  let users: Promise<string[]> | undefined;
  // Read once per scan, whoever asks first; a failure fails every reader alike.
  const uids = () => (users ??= metadataKeys(admin, 'user', max));
  return {
    uids,
    async buckets(pick) {
      let owners: string[];
      try {
        owners = await uids();
      } catch (err) {
        if (httpStatusOf(err) !== 403) throw err;
        return listing.getList('bucket', { stats: 'true', format: 'json' }, pick, max);
      }
      const limit = pLimit(options.concurrency);
      let total = 0;
      const counted = (raw: unknown): T => {
        total += 1;
        if (total > max)
          throw new ListingCutShortError(
            `GET /admin/bucket?stats=true listed more than ${max} buckets: not read on (scan.maxBuckets)`,
          );
        return pick(raw);
      };
      const shards = await Promise.all(
        owners.map((uid) =>
          limit(() => listing.getList('bucket', { uid, stats: 'true', format: 'json' }, counted, max)),
        ),
      );
      const entries = shards.flat();
      const listed = new Set(entries.map(entryName));
      const listedOwners = new Set(owners);
      const names = await metadataKeys(admin, 'bucket', max);
      const left = names.map((key) => key.replace('/', ':')).filter((name) => !listed.has(name));
      listed.clear();
      const found = await Promise.all(
        left.map((name) => limit(() => lookUpLeftOut(admin, name, listedOwners, counted))),
      );
      for (const entry of found) if (entry) entries.push(entry);
      return entries;
    },
  };
}

/** One stats entry, as `GET /admin/bucket?bucket=` answers for a single bucket. */
const oneEntry = z.looseObject({ bucket: z.string().min(1), owner: z.string().optional() });

async function lookUpLeftOut<T extends NamedEntry>(
  admin: AdminApiClient,
  name: string,
  listedOwners: Set<string>,
  pick: (raw: unknown) => T,
): Promise<T | null> {
  let raw: z.infer<typeof oneEntry>;
  try {
    raw = await admin.get('bucket', { bucket: name, stats: 'true', format: 'json' }, oneEntry);
  } catch (err) {
    // Removed since the name listing: gone, which its absence check will confirm if CloudStack has it.
    if (isNoSuchBucket(err)) return null;
    throw err;
  }
  if (raw.owner !== undefined && listedOwners.has(raw.owner))
    throw new ListingCutShortError(
      `GET /admin/bucket?uid=${raw.owner} left out bucket ${name}, which the store has: the listing is not trusted`,
    );
  return pick(raw);
}

/** RGW's answer for a bucket it does not have (an admin API 404 for anything else says nothing). */
export function isNoSuchBucket(err: unknown): boolean {
  return (
    err instanceof AdminApiError && err.$metadata.httpStatusCode === 404 && err.storeCode === 'NoSuchBucket'
  );
}
