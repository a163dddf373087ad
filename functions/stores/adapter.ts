import type { AbsenceCheck, StoreBucket, StoreTarget } from '../core/model.js';
import type { TransportOptions } from './http.js';

/** What the scan needs from a store. Adapters observe; they never decide drift. */
export interface StoreConnection {
  /** Every bucket in the store, or a throw: never a silently shortened list. */
  listBuckets(): Promise<StoreBucket[]>;
  /** A direct look at one bucket the listing did not show. */
  headBucket(name: string): Promise<{ result: AbsenceCheck; detail?: string }>;
  requestCount(): number;
  close(): void;
}

export interface StoreAdapter {
  /** Why this adapter will not scan the store, if it will not (e.g. the Simulator has nothing behind it). */
  skipReason?: string;
  connect(store: StoreTarget, options: TransportOptions): StoreConnection;
}
