// How CloudStack names what it makes in a store for an account (FACTS, "Keys and principals"), in one
// place for the adapters, the key rules and the reads of account_details.

/**
 * The names an account's store user may have, newest first: Ceph's uid is the account uuid; MinIO's
 * user is `acs-<account uuid>`, or `acs-<account name>` for accounts made before January 2024
 * (apache/cloudstack#8425).
 */
export function storeUserNames(
  provider: string,
  account: { accountUuid: string; accountName: string | null },
): string[] {
  if (provider !== 'MinIO') return [account.accountUuid];
  return [`acs-${account.accountUuid}`, ...(account.accountName ? [`acs-${account.accountName}`] : [])];
}

/** account_details' names of an account's store keys (access, secret), by provider. */
export const STORE_KEY_DETAILS: Readonly<Record<string, readonly [string, string]>> = {
  Ceph: ['ceph-rgw-accesskey', 'ceph-rgw-secretkey'],
  MinIO: ['minio-accesskey', 'minio-secretkey'],
};
