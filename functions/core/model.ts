// The domain model every room shares. Plain, serialisable values only: a StoreScan made in one
// Lambda invocation must be evaluable in another.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RULE_IDS = [
  'bucket-missing-in-store',
  'bucket-unmanaged-in-store',
  'bucket-removed-but-present',
  'bucket-stuck-allocated',
  'bucket-duplicate-name',
  'bucket-account-removed',
  'bucket-owner-mismatch',
  'bucket-versioning-mismatch',
  'bucket-encryption-mismatch',
  'bucket-object-lock-mismatch',
  'bucket-policy-mismatch',
  'bucket-quota-mismatch',
  'bucket-usage-drift',
  'store-accounting-drift',
  'store-unverified',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

export type CloudStackSchema = '4.19' | '4.21';

/** A store as the report names it (the contract's STORE). */
export interface StoreRef {
  id: number;
  uuid: string;
  name: string;
  provider: string;
  endpoint: string;
}

/** A store with what is needed to reach it. Credentials never leave the adapters. */
export interface StoreTarget extends StoreRef {
  credentials: { accessKey: string; secretKey: string } | null;
  skip: boolean;
}

export interface StoreRecord extends StoreTarget {
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
  owner: Owner | null;
  /** For a project's bucket: the project's uuid, which updateResourceCount takes as projectid. */
  projectUuid: string | null;
  accountRemoved: boolean;
}

export interface CloudStackInventory {
  schema: CloudStackSchema;
  database: string;
  readAt: string;
  stores: StoreRecord[];
  buckets: DbBucket[];
}

export const COVERAGE_STATUSES = ['verified', 'partial', 'unreachable', 'auth_failed', 'skipped'] as const;
export type CoverageStatus = (typeof COVERAGE_STATUSES)[number];

export interface StoreBucket {
  name: string;
  owner?: string;
  createdAt?: string;
}

/** The bucket attributes the attribute rules compare; each adapter declares which it can read. */
export const BUCKET_ATTRIBUTES = [
  'owner',
  'versioning',
  'encryption',
  'objectLock',
  'policy',
  'quota',
  'usage',
] as const;
export type BucketAttribute = (typeof BUCKET_ATTRIBUTES)[number];

/** What was read, or why it could not be: never a guess. */
export type Observed<T> = { value: T } | { error: string };

export type VersioningStatus = 'Enabled' | 'Suspended' | 'Off';

/** Whether anonymous callers get an access: 'conditional' when only under a Condition. */
export type AnonymousAccess = 'yes' | 'conditional' | 'no';

/** A bucket policy by what it means for anonymous callers, not by its text. */
export interface PolicyMeaning {
  anonymousRead: AnonymousAccess;
  anonymousList: AnonymousAccess;
  /** Anonymous writes or deletes: never part of what CloudStack sets. */
  anonymousWrite: AnonymousAccess;
  statements: number;
}

export interface BucketOwnership {
  /** The store's owner of the bucket (Ceph: the RGW uid). */
  storeOwner?: string;
  /** MinIO: the owning account's user (`acs-<account uuid>`), whether it exists, and its attached policies. */
  user?: { name: string; exists: boolean; policies: string[] };
}

export interface BucketUsage {
  bytes: number;
  /** Ceph: `size_kb`, which CloudStack stores as if it were bytes (apache/cloudstack#13224). */
  kib?: number;
  objects?: number;
  /** When the store last computed it (MinIO's usage is a periodic scan). */
  at?: string;
}

export interface BucketAttributes {
  owner?: Observed<BucketOwnership>;
  versioning?: Observed<VersioningStatus>;
  /** The default encryption algorithm, or null when the bucket has none. */
  encryption?: Observed<string | null>;
  objectLock?: Observed<boolean>;
  policy?: Observed<PolicyMeaning>;
  /** Bytes; null when the bucket has no quota. */
  quota?: Observed<number | null>;
  usage?: Observed<BucketUsage>;
}

/** MinIO: every canned policy by name, with the buckets it grants access to. */
export interface StoreAccounts {
  policies: Record<string, string[]>;
}

/** What a direct check (HeadBucket) said about a bucket the listing did not show. */
export type AbsenceCheck = 'absent' | 'present' | 'unknown';

/** The meeting point of the scan phase and the evaluate phase. */
export interface StoreScan {
  storeId: number;
  status: CoverageStatus;
  error?: string;
  /**
   * A fault of csdrift's own (a bug, not the store's answer) that stopped this store's scan: the
   * store is then `skipped` with every check that needs it unverified, never `partial` or
   * `unreachable`, which would blame the store.
   */
  internalError?: string;
  startedAt: string;
  finishedAt: string;
  listingComplete: boolean;
  buckets: StoreBucket[];
  absenceChecks: Record<string, { result: AbsenceCheck; checkedAt: string; detail?: string }>;
  requests: number;
  /** The attributes this store's adapter can read at all… */
  capabilities?: BucketAttribute[];
  /** …and, for the others, why they do not apply to this provider. */
  notApplicable?: Partial<Record<BucketAttribute, string>>;
  /** Per bucket CloudStack and the store both have: the attributes read this run. */
  attributes?: Record<string, BucketAttributes>;
  /** MinIO's users and canned policies, for the owner rule. */
  accounts?: Observed<StoreAccounts>;
}

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
  };
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
