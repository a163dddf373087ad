import type {
  AbsenceCheck,
  BucketAttribute,
  BucketAttributes,
  Keys,
  Observed,
  StoreAccounts,
  StoreBucket,
  StorePrincipals,
  StoreTarget,
} from '../core/model.js';
import type { TransportOptions } from './http.js';

/** A bucket CloudStack and the store both have, whose attributes the rules compare. */
export interface InspectTarget {
  name: string;
  accountUuid: string | null;
  accountName: string | null;
  /** The bucket as the listing showed it (RGW: its instance id, owner, usage and quota). */
  listed: StoreBucket;
}

export interface ScanContext {
  /** The owner's store keys (account_details), for buckets the admin may not read. Never logged. */
  ownerKeys?: (accountUuid: string) => Promise<Keys | null>;
  /** The buckets CloudStack records in the store: how long its listing may wait (http.ts). */
  expectedBuckets?: number;
  /**
   * The store users CloudStack's active rows name (their owners'), each as the names it may have: an
   * owner none of whose names the user listing has is asked about directly, and found there, the
   * listing is not trusted (as HeadBucket does for buckets). Iterated when the users are read, not
   * held as a list.
   */
  expectedUsers?: Iterable<string[]>;
}

export interface AttributeReading {
  attributes: Record<string, BucketAttributes>;
  accounts?: Observed<StoreAccounts>;
}

/** What the scan needs from a store. Adapters observe; they never decide drift. */
export interface StoreConnection {
  /**
   * Every bucket in the store, each handed to `onBucket` as it arrives (a store of a million buckets
   * is never one list), or a throw: never a silently shortened listing.
   */
  listBuckets(onBucket: (bucket: StoreBucket) => void): Promise<void>;
  /**
   * Every bucket name the store has, by a cheaper listing than `listBuckets` (RGW: the metadata
   * pages): each one the listing lacked is looked up (`lookUpBucket`), so that a listing that left
   * a bucket out is caught. Where a store has none, its listing is its own proof.
   */
  listNames?(onName: (name: string) => void): Promise<void>;
  /** Whether `listBuckets` asked this owner for its buckets: a bucket of such an owner it left out means a listing cut short. */
  listsOwner?(owner: string): boolean;
  /** A direct look at one bucket the listing did not show. */
  headBucket(name: string): Promise<{ result: AbsenceCheck; detail?: string }>;
  /**
   * A targeted audit's direct question about one bucket, whoever owns it: the bucket as a listing
   * would show it, or null when the store said it has no such bucket. Any other answer throws.
   * Without it, HeadBucket answers (which sees every bucket only with keys that may read them all).
   */
  lookUpBucket?(name: string): Promise<StoreBucket | null>;
  /**
   * The wanted attributes of buckets the listing showed, each read once. A bucket that cannot be
   * read gets an error on that attribute; this never throws for one bucket.
   */
  readAttributes(targets: InspectTarget[], wanted: BucketAttribute[]): Promise<AttributeReading>;
  /**
   * The store's users and groups with their keys (by digest) and what they may do to every bucket,
   * for the key rules. An answer the adapter cannot complete is an error, never a shorter list.
   */
  readPrincipals?(): Promise<Observed<StorePrincipals>>;
  requestCount(): number;
  close(): void;
}

/**
 * What a store's listing says of a bucket that changes whenever some of its attributes change
 * (RGW: the bucket instance's id and mtime): scan.incremental keeps the last read of `covers` for a
 * bucket whose identity is what it was then. Which attributes it covers is proved on a live store.
 */
export interface ListingIdentity {
  of(bucket: StoreBucket): string | undefined;
  covers: readonly BucketAttribute[];
}

export interface StoreAdapter {
  /** Why this adapter will not scan the store, if it will not (e.g. the Simulator has nothing behind it). */
  skipReason?: string;
  /** The attributes this adapter can read… */
  capabilities: readonly BucketAttribute[];
  /** …and why each of the others does not apply to its provider. */
  notApplicable: Partial<Record<BucketAttribute, string>>;
  /** Where the store's listing offers one (stores whose listing has no such thing read every night). */
  identity?: ListingIdentity;
  connect(store: StoreTarget, options: TransportOptions, context?: ScanContext): StoreConnection;
}
