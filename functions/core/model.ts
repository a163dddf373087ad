// The domain model every room shares. Plain, serialisable values only: a StoreScan made in one
// Lambda invocation must be evaluable in another.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

// The rule ids come from the registry (rules/index.ts): a rule is added there and nowhere else.
export type { RuleId } from './rules/index.js';
import type { RuleId } from './rules/index.js';

export type CloudStackSchema = '4.19' | '4.21';

/** A store as the report names it (docs/contract.md: STORE). */
export interface StoreRef {
  id: number;
  uuid: string;
  name: string;
  provider: string;
  endpoint: string;
}

/** An access key pair of a store (the admin's, or an owner's). Never shown, logged or reported. */
export interface Keys {
  accessKey: string;
  secretKey: string;
}

/** A store with what is needed to reach it. Credentials never leave the adapters. */
export interface StoreTarget extends StoreRef {
  credentials: Keys | null;
  skip: boolean;
  /** PEM certificates of a private CA the store's TLS certificate is signed by (config stores.*.caBundle). */
  ca?: string;
}

export interface StoreRecord extends StoreTarget {
  /**
   * object_store.url as CloudStack records it (userinfo dropped), whatever config `stores.*.endpoint`
   * makes the auditor reach: what CloudStack's drivers build each bucket's URL from.
   */
  recordedUrl?: string;
  usedBytes: number | null;
  allocatedSize: number | null;
  totalSize: number | null;
}

export interface Owner {
  accountUuid: string;
  accountName: string;
  domainUuid: string;
  domainPath: string;
  projectName?: string;
}

/** The owner by name, as every channel says it: `project P` or `account A`. */
export function ownerName(owner: Owner): string {
  return owner.projectName ? `project ${owner.projectName}` : `account ${owner.accountName}`;
}

/** The owner in full, for messages and steps: `account alice (<uuid>) in domain /`. */
export function ownerText(owner: Owner | null | undefined): string {
  if (!owner) return 'an unknown account';
  return `${ownerName(owner)} (${owner.accountUuid}) in domain ${owner.domainPath}`;
}

export interface DbBucket {
  id: number;
  uuid: string | null;
  name: string;
  storeId: number;
  state: string;
  created: string | null;
  removed: string | null;
  size: number | null;
  /** GB, as CloudStack records it; null or 0 when the bucket has none. */
  quota: number | null;
  versioning: boolean | null;
  encryption: boolean | null;
  objectLock: boolean | null;
  /** 'public', or anything else for private. */
  policy: string | null;
  /**
   * `bucket.access_key` only where it is a MinIO user name (`acs-…`), which it is for MinIO buckets;
   * any other key (Ceph's are random) is never read out of the database.
   */
  accessKeyUser: string | null;
  /**
   * bucket.access_key as its digest and last four characters, computed by the database: the key id
   * itself never leaves it (core/scan-schema.ts KeyRef). Absent when the row has none.
   */
  accessKey?: { digest: string; last4: string };
  /** bucket.bucket_url (userinfo dropped): the URL CloudStack shows its users, set once at creation. */
  bucketUrl?: string | null;
  /**
   * What the usage server bills for this row each period: its bucket_statistics size, where above 0
   * (null: nothing); absent when bucket_statistics could not be read (CloudStackInventory.billingUnreadable).
   */
  billedBytes?: number | null;
  /** Removed rows still billed: what the usage database recorded since the removal (config `usageDb`). */
  usageSinceRemoval?: UsageSinceRemoval;
  owner: Owner | null;
  /** For a project's bucket: the project's uuid, which updateResourceCount takes as projectid. */
  projectUuid: string | null;
  accountRemoved: boolean;
}

/** The usage server's records for a removed bucket since its removal (config `usageDb`). */
export interface UsageSinceRemoval {
  records: number;
  /** The bytes of every record added up: each record bills one period's size. */
  bytes: number;
  from: string;
  to: string;
}

export type UsageDbReading = { read: true } | { unreadable: string };

/** An account as the key rules need it: who CloudStack knows, and whether it is gone. */
export interface AccountRecord {
  uuid: string;
  name: string;
  removed: boolean;
}

export interface CloudStackInventory {
  schema: CloudStackSchema;
  database: string;
  readAt: string;
  stores: StoreRecord[];
  buckets: DbBucket[];
  /** Bucket rows whose object_store_id is not a store id (say `1xyz`): reported, judged against no store. */
  rowsWithoutStore?: { count: number; bucketIds: number[] };
  /** Why bucket_statistics could not be read (no SELECT on it, say): the billing rules do not apply. */
  billingUnreadable?: string;
  /** Every account, removed ones included (full runs only): whose store users are whose. */
  accounts?: AccountRecord[];
  /** With config `usageDb`: whether the usage database was read, or why it could not be. */
  usageDb?: UsageDbReading;
}

/** What was read, or why it could not be: never a guess. */
export type Observed<T> = { value: T } | { error: string };

// The scan phase's values are declared by their schemas (core/scan-schema.ts), which also check a
// scan read back from storage (the fan-out's merge): one declaration, no twin to drift from it.
import type { CoverageStatus } from './scan-schema.js';
export { BUCKET_ATTRIBUTES, COVERAGE_STATUSES } from './scan-schema.js';
export type {
  AbsenceCheck,
  BucketAttribute,
  CoverageStatus,
  AnonymousAccess,
  BucketAttributes,
  BucketRead,
  KeyRef,
  StorePrincipal,
  StorePrincipals,
  BucketOwnership,
  BucketUsage,
  PolicyMeaning,
  StoreAccounts,
  StoreBucket,
  StoreScan,
  VersioningStatus,
} from './scan-schema.js';

export type CheckStatus = 'verified' | 'not_applicable' | 'unverified';

/** A check's status and, unless it is verified, why. */
export interface CheckVerdict {
  status: CheckStatus;
  why?: string;
}

export interface StoreCoverage {
  store: StoreRef;
  status: CoverageStatus;
  bucketsInDb: number;
  bucketsInStore: number;
  checks: Partial<Record<RuleId, CheckStatus>>;
  error?: string;
  /** A fault of csdrift's own on this store (a rule or the scan threw): named here, its stack in the log. */
  internalError?: string;
  evidence: {
    requests: number;
    /** Store requests per bucket the store holds: the audit's main cost. */
    requestsPerBucket?: number;
    startedAt: string;
    finishedAt: string;
    /** Why a check is not_applicable or unverified. */
    checkNotes?: Partial<Record<RuleId, string>>;
    /** Listing entries no bucket can be named: counted and shown escaped, never compared. */
    unusableBucketNames?: { count: number; examples: string[] };
  };
  /** The current view only: when a run last verified the whole store (null: never yet). */
  lastFullVerification?: string | null;
}

export interface Remediation {
  summary: string;
  steps: string[];
}

/** What a rule reports, before the engine gives it an id, a severity and a status. */
export interface RuleFinding {
  store: StoreRef;
  bucket: string | null;
  dbBucket: DbBucket | null;
  /**
   * The data at stake, where the store reports usage: the bucket's size for data nobody is billed
   * for (unmanaged, removed-but-present, account-removed), the difference for usage drift. Absent,
   * never 0, where the store cannot tell.
   */
  bytes?: number;
  /**
   * What the usage server bills each period for a bucket that is gone: its rows removed in CloudStack
   * (bucket-billed-after-removal) or the bucket missing from its store (bucket-missing-in-store).
   */
  billedButGoneBytes?: number;
  attribute?: string;
  expected?: unknown;
  actual?: unknown;
  message: string;
  evidence: Record<string, unknown>;
  remediation: Remediation;
}

export type FindingStatus = 'new' | 'open' | 'suppressed';

/** The row a finding is about, as the report shows it. */
export type DbBucketRef = Pick<DbBucket, 'id' | 'uuid' | 'state' | 'created' | 'removed'>;

export interface Finding extends Omit<RuleFinding, 'dbBucket'> {
  id: string;
  rule: RuleId;
  severity: Severity;
  status: FindingStatus;
  dbBucket: DbBucketRef | null;
  owner: Owner | null;
  firstSeen: string;
  lastSeen: string;
  /** The current view only: when the last run whose scope covered this bucket and rule observed it. */
  lastVerifiedAt?: string;
  /** The change event that opened it (an event run), kept by later runs. */
  cause?: FindingCause;
  /** The current view: every action taken on it (the ledger's audit trail). */
  actions?: FindingAction[];
}

/**
 * A record keyed by names a store or a row supplies (bucket names): no prototype, so a bucket named
 * `__proto__` is a key like any other and can never reach Object.prototype.
 */
export function byName<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function storeRef(store: StoreRef): StoreRef {
  const { id, uuid, name, provider, endpoint } = store;
  return { id, uuid, name, provider, endpoint };
}

export function bucketsByStore(buckets: DbBucket[]): Map<number, DbBucket[]> {
  const byStore = new Map<number, DbBucket[]>();
  for (const b of buckets) {
    const list = byStore.get(b.storeId);
    if (list) list.push(b);
    else byStore.set(b.storeId, [b]);
  }
  return byStore;
}

/** `removed IS NULL AND state <> 'Destroyed'` (FACTS.md). */
export function isActive(bucket: DbBucket): boolean {
  return bucket.removed === null && bucket.state !== 'Destroyed';
}

/** Who acted: a Slack user, the self-healing of failed deletes, or a person at the command line. */
export type ActionBy = `slack:${string}` | 'auto:failed-delete' | 'cli';
export type ActionKind = 'fix' | 'suppress' | 'not-drift';
export type ActionOutcome = 'done' | 'refused' | 'failed';

export interface FindingAction {
  at: string;
  by: ActionBy;
  action: ActionKind;
  outcome: ActionOutcome;
  detail?: string;
  /** A self-healing run that only said what it would have done. */
  dryRun?: boolean;
}

/** Who made a change, as a change feed tells it: key ids only, never a key. */
export interface Actor {
  user?: string;
  accessKey?: string;
  account?: string;
  remoteAddress?: string;
  userAgent?: string;
}

/** The change event that opened a finding: where it came from, when, what, and who (if the source says). */
export interface FindingCause {
  source: string;
  at: string;
  /** The event's type as its source names it (`delete_bucket`, `DeleteBucket`, `BUCKET.DELETE`). */
  type: string;
  /** A CloudStack call that failed (`Error while …`). */
  failed?: boolean;
  actor?: Actor;
}
