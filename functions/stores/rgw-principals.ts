// Ceph RGW's users through the admin ops API: `GET /admin/metadata/user` lists every uid (paged, read
// once per scan with the bucket listing by owner, rgw-listing.ts), then `GET /admin/user?uid=` gives each one's keys, caps and flags (one request per user, `concurrency`
// at a time). Of the keys only the access key ids are taken, as digests: the secret keys (and Swift's)
// in the same answer are never copied out of it, so they never reach the scan, a log or a report.
import pMap from 'p-map';
import * as z from 'zod';
import type { Observed, StorePrincipal, StorePrincipals, StoreTarget } from '../core/model.js';
import { rgwUserRights } from '../core/principal-rights.js';
import type { AdminApiClient } from './admin-api.js';
import { confirmAbsent, principalsFailure, unlisted } from './principals.js';
import type { TransportOptions } from './http.js';
import { keyRef } from './key-ref.js';

const flag = z.union([z.boolean(), z.string(), z.number()]).optional();
/** RGWUserInfo as `GET /admin/user` dumps it (rgw_user.cc / rgw_common.cc); extra fields allowed. */
const rgwUserInfo = z.looseObject({
  user_id: z.string().min(1),
  suspended: z.union([z.number(), z.boolean()]).optional(),
  keys: z.array(z.looseObject({ access_key: z.string(), active: z.boolean().optional() })).optional(),
  caps: z.array(z.looseObject({ type: z.string(), perm: z.string() })).optional(),
  system: flag,
  admin: flag,
});

function isSet(value: z.infer<typeof flag>): boolean {
  return value === true || value === 'true' || value === 1;
}

export async function readRgwPrincipals(
  admin: AdminApiClient,
  listUids: () => Promise<ReadonlySet<string>>,
  store: StoreTarget,
  options: TransportOptions,
  expectedUsers: Iterable<string[]> = [],
): Promise<Observed<StorePrincipals>> {
  try {
    const uids = await listUids();
    const concurrency = { concurrency: options.concurrency };
    await pMap(
      unlisted(expectedUsers, (uid) => uids.has(uid)),
      (uid) =>
        confirmAbsent(
          () => admin.get('user', { uid, format: 'json' }, rgwUserInfo),
          `GET /admin/metadata/user left out user ${uid}, which GET /admin/user found: the user listing is not trusted`,
        ),
      concurrency,
    );
    // One task per user as the one before finishes (pMap), not ten thousand queued at once.
    const users = await pMap(uids, (uid) => readUser(admin, uid, store), concurrency);
    return { value: { principals: users } };
  } catch (err) {
    return principalsFailure(
      err,
      'the admin user needs the caps users=read and metadata=read (radosgw-admin caps add --uid=ADMIN --caps="users=read;metadata=read")',
    );
  }
}

async function readUser(admin: AdminApiClient, uid: string, store: StoreTarget): Promise<StorePrincipal> {
  // A 404 here (a user removed since the listing, or anything answering for the store) fails the
  // whole reading: a user left out would make its buckets' keys look dead.
  const info = await admin.get('user', { uid, format: 'json' }, rgwUserInfo);
  const enabled = !isSet(info.suspended === undefined ? undefined : Boolean(info.suspended));
  const keys = (info.keys ?? []).map((k) => keyRef(k.access_key, enabled && k.active !== false));
  const cloudstack = (info.keys ?? []).some((k) => k.access_key === store.credentials?.accessKey);
  return {
    kind: 'user',
    name: info.user_id === uid ? uid : info.user_id, // the listing's string, not a second copy of it
    enabled,
    keys,
    rights: rgwUserRights({
      caps: (info.caps ?? []).map(({ type, perm }) => ({ type, perm })),
      system: isSet(info.system),
      admin: isSet(info.admin),
    }),
    ...(cloudstack ? { cloudstack: true } : {}),
  };
}
