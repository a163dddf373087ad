// States a store imposes by itself, or that CloudStack cannot express: the rules never call them
// drift, since nobody could "fix" them and a task nobody can act on teaches operators to ignore tasks.
// Each is decided from the provider's documentation or source and CloudStack's driver; the README's
// rules table lists them.
import type { BucketAttributes, DbBucket } from './model.js';

export interface StoreForcedState {
  rule: string;
  providers: string;
  state: string;
  source: string;
}

export const STORE_FORCED_STATES: readonly StoreForcedState[] = [
  {
    rule: 'bucket-versioning-mismatch',
    providers: 'every S3 store (Ceph RGW, MinIO, Cloudian, generic S3)',
    state:
      'object lock on in the store turns versioning on by itself and it can never be suspended: DB versioning=0 with store Enabled is in sync',
    source:
      'AWS S3 object lock docs; MinIO "object locking enables versioning"; Ceph\'s object lock notes ("versioning has to be enabled on the bucket"), and measured on the RGW of the test suite: a bucket created with object lock answers versioning Enabled',
  },
  {
    rule: 'bucket-versioning-mismatch',
    providers: 'every S3 store',
    state:
      'a bucket once versioned can only be suspended, never unversioned: DB versioning=0 matches Suspended',
    source: 'S3 PutBucketVersioning; CloudStack drivers turn versioning off by suspending it',
  },
  {
    rule: 'bucket-encryption-mismatch',
    providers: 'Ceph RGW',
    state:
      'not compared: CloudStack\'s Ceph driver has no bucket encryption (its "encryption" flag does nothing there)',
    source: 'CloudStack CephObjectStoreDriverImpl (setBucketEncryption unsupported)',
  },
  {
    rule: 'bucket-quota-mismatch',
    providers: 'Cloudian HyperStore',
    state: "not compared: CloudStack's Cloudian driver has no bucket quota",
    source: 'CloudStack CloudianHyperStoreObjectStoreDriverImpl (quota unsupported)',
  },
  {
    rule: 'bucket-usage-drift',
    providers: 'MinIO',
    state:
      "usage is MinIO's periodic scan, so a bucket it has not scanned yet is unverified, not drift; small lag is within the tolerance",
    source: 'MinIO admin datausageinfo (lastUpdate)',
  },
];

/**
 * Whether the store forces versioning on this bucket: object lock on in the store forces Enabled.
 * `unknown` when the store's object lock could not be read: a versioning difference is then no
 * evidence either way.
 */
export function versioningForced(observed: BucketAttributes | undefined): 'forced' | 'free' | 'unknown' {
  const lock = observed?.objectLock;
  if (!lock || !('value' in lock)) return 'unknown';
  return lock.value ? 'forced' : 'free';
}

/** A DB versioning=0 bucket whose store versioning is Enabled: drift only where the store left it free. */
export function versioningOffButEnabled(bucket: DbBucket, storeStatus: string): boolean {
  return bucket.versioning !== true && storeStatus === 'Enabled';
}
