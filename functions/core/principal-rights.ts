// What a Ceph RGW user may do to every bucket of its store, read from what `GET /admin/user` says of it:
// its caps (the admin ops API's permissions) and its flags. MinIO's rights come from its policies
// (policy-meaning.ts bucketWideRights).

/**
 * Caps that reach every bucket: `buckets` write removes, links and unlinks any bucket through the admin
 * API; `users` write makes keys for any user (and so acts as every owner); `metadata` write rewrites any
 * bucket's metadata.
 */
const BUCKET_WIDE_CAPS = ['buckets', 'users', 'metadata'] as const;

export interface RgwUserGrant {
  caps: { type: string; perm: string }[];
  /** `system`: the user passes every permission check (multisite's own users). */
  system: boolean;
  /** `admin` (Reef and later): every admin ops call, without caps. */
  admin: boolean;
}

export function rgwUserRights(user: RgwUserGrant): string[] {
  const rights: string[] = [];
  if (user.system) rights.push('system user (passes every permission check)');
  if (user.admin) rights.push('admin flag (every admin ops call)');
  for (const cap of user.caps) {
    const perm = cap.perm.replace(/\s+/g, '');
    const writes = perm === '*' || perm.split(',').includes('write');
    if (writes && (BUCKET_WIDE_CAPS as readonly string[]).includes(cap.type))
      rights.push(`caps ${cap.type}=${cap.perm}`);
  }
  return rights;
}
