// The scan phase's output, declared once as schemas: the types the rules read are derived from them,
// and a scan read back from storage (the fan-out's merge) is checked against them before it is used.
import * as z from 'zod';

export const COVERAGE_STATUSES = ['verified', 'partial', 'unreachable', 'auth_failed', 'skipped'] as const;
export type CoverageStatus = (typeof COVERAGE_STATUSES)[number];

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

const observed = <T extends z.ZodType>(value: T) =>
  z.union([z.strictObject({ value }), z.strictObject({ error: z.string() })]);

export type StoreBucket = z.infer<typeof storeBucketSchema>;

export const versioningStatusSchema = z.enum(['Enabled', 'Suspended', 'Off']);
export type VersioningStatus = z.infer<typeof versioningStatusSchema>;

/** Whether anonymous callers get an access: 'conditional' when only under a Condition. */
export const anonymousAccessSchema = z.enum(['yes', 'conditional', 'no']);
export type AnonymousAccess = z.infer<typeof anonymousAccessSchema>;

/** A bucket policy by what it means for anonymous callers, not by its text. */
export const policyMeaningSchema = z.strictObject({
  anonymousRead: anonymousAccessSchema,
  anonymousList: anonymousAccessSchema,
  /** Anonymous writes or deletes: never part of what CloudStack sets. */
  anonymousWrite: anonymousAccessSchema,
  statements: z.number().int().nonnegative(),
});
export type PolicyMeaning = z.infer<typeof policyMeaningSchema>;

export const bucketOwnershipSchema = z.strictObject({
  /** The store's owner of the bucket (Ceph: the RGW uid). */
  storeOwner: z.string().optional(),
  /** MinIO: the owning account's user (`acs-<account uuid>`), whether it exists, and its attached policies. */
  user: z.strictObject({ name: z.string(), exists: z.boolean(), policies: z.array(z.string()) }).optional(),
});
export type BucketOwnership = z.infer<typeof bucketOwnershipSchema>;

export const bucketUsageSchema = z.strictObject({
  bytes: z.number().nonnegative(),
  /** Ceph: `size_kb`, which CloudStack stores as if it were bytes (apache/cloudstack#13224). */
  kib: z.number().nonnegative().optional(),
  objects: z.number().nonnegative().optional(),
  /** When the store last computed it (MinIO's usage is a periodic scan). */
  at: z.string().optional(),
});
export type BucketUsage = z.infer<typeof bucketUsageSchema>;

export const storeBucketSchema = z.strictObject({
  name: z.string().min(1),
  owner: z.string().optional(),
  createdAt: z.string().optional(),
  /** What the store says the bucket holds, where its listing tells (RGW's stats listing). */
  bytes: z.number().nonnegative().optional(),
  /**
   * What else the listing told of the bucket, kept with it so that nothing is looked up by name later
   * (a store of a million buckets is judged a partition at a time): RGW's bucket instance id (where
   * the bucket has no tenant), the instance's mtime, its usage and quota (bytes; null: none).
   */
  instanceId: z.string().optional(),
  mtime: z.string().optional(),
  usage: bucketUsageSchema.optional(),
  quota: z.number().nonnegative().nullable().optional(),
});

export const bucketAttributesSchema = z.strictObject({
  owner: observed(bucketOwnershipSchema).optional(),
  versioning: observed(versioningStatusSchema).optional(),
  /** The default encryption algorithm, or null when the bucket has none. */
  encryption: observed(z.string().nullable()).optional(),
  objectLock: observed(z.boolean()).optional(),
  policy: observed(policyMeaningSchema).optional(),
  /** Bytes; null when the bucket has no quota. */
  quota: observed(z.number().nonnegative().nullable()).optional(),
  usage: observed(bucketUsageSchema).optional(),
});
export type BucketAttributes = z.infer<typeof bucketAttributesSchema>;

/**
 * A bucket's last verified read of the attributes its listing identity covers (scan.incremental): kept
 * in the state layer per store and shard, and used instead of a new read while the identity holds.
 */
export const bucketReadSchema = z.strictObject({
  name: z.string().min(1),
  identity: z.string().min(1),
  verifiedAt: z.string(),
  attributes: bucketAttributesSchema,
});
export type BucketRead = z.infer<typeof bucketReadSchema>;

/** MinIO: every canned policy by name, with the buckets it grants access to. */
export const storeAccountsSchema = z.strictObject({ policies: z.record(z.string(), z.array(z.string())) });
export type StoreAccounts = z.infer<typeof storeAccountsSchema>;

/**
 * An access key by its id's digest (sha256, the first 32 hex digits) and its last four characters: keys
 * are compared by digest and told apart by their end, and no key id is kept whole in a scan or a report.
 * A secret key is never read at all.
 */
export const keyRefSchema = z.strictObject({
  digest: z.string().regex(/^[0-9a-f]{32}$/),
  last4: z.string().max(4),
  enabled: z.boolean(),
});
export type KeyRef = z.infer<typeof keyRefSchema>;

/**
 * A principal of the store: a user (Ceph uid, MinIO user, its service accounts among its keys) or a
 * MinIO group, with what it can do to every bucket of the store (its `rights`, read from caps, flags
 * and policies by core/principal-rights.ts and core/policy-meaning.ts) and whether it holds the keys
 * CloudStack uses for this store.
 */
export const storePrincipalSchema = z.strictObject({
  kind: z.enum(['user', 'group']),
  name: z.string().min(1),
  enabled: z.boolean(),
  keys: z.array(keyRefSchema),
  rights: z.array(z.string()),
  /** MinIO: the policies attached to the user or group. */
  policies: z.array(z.string()).optional(),
  /** MinIO: the groups of a user; the members of a group. */
  memberOf: z.array(z.string()).optional(),
  members: z.array(z.string()).optional(),
  /** The admin keys CloudStack reaches this store with (object_store_details) are this principal's. */
  cloudstack: z.boolean().optional(),
});
export type StorePrincipal = z.infer<typeof storePrincipalSchema>;

export const storePrincipalsSchema = z.strictObject({
  principals: z.array(storePrincipalSchema),
  /** Parts of the listing the store would not give (MinIO's access keys on an older server): never taken as none. */
  unread: z.array(z.string()).optional(),
  /**
   * The admin keys may not list users (the store answered 403): the key rules do not apply there and
   * say which grant they need, as the billing rules do without bucket_statistics. `principals` is empty.
   */
  refused: z.string().optional(),
});
export type StorePrincipals = z.infer<typeof storePrincipalsSchema>;

/** What a direct check (HeadBucket) said about a bucket the listing did not show. */
export const absenceCheckSchema = z.enum(['absent', 'present', 'unknown']);
export type AbsenceCheck = z.infer<typeof absenceCheckSchema>;

/** The meeting point of the scan phase and the evaluate phase. */
export const storeScanSchema = z.strictObject({
  storeId: z.number().int(),
  status: z.enum(COVERAGE_STATUSES),
  error: z.string().optional(),
  /**
   * A fault of csdrift's own (a bug, not the store's answer) that stopped this store's scan: the
   * store is then `skipped` with every check that needs it unverified, never `partial` or
   * `unreachable`, which would blame the store.
   */
  internalError: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  listingComplete: z.boolean(),
  buckets: z.array(storeBucketSchema),
  /** Entries of the listing that no bucket can be named (too long, control characters): reported, never compared. */
  unusableNames: z
    .strictObject({ count: z.number().int().positive(), examples: z.array(z.string()) })
    .optional(),
  absenceChecks: z.record(
    z.string(),
    z.strictObject({ result: absenceCheckSchema, checkedAt: z.string(), detail: z.string().optional() }),
  ),
  requests: z.number().int().nonnegative(),
  /** The attributes this store's adapter can read at all… */
  capabilities: z.array(z.enum(BUCKET_ATTRIBUTES)).optional(),
  /** …and, for the others, why they do not apply to this provider. */
  notApplicable: z.partialRecord(z.enum(BUCKET_ATTRIBUTES), z.string()).optional(),
  /** Per bucket CloudStack and the store both have: the attributes read this run. */
  attributes: z.record(z.string(), bucketAttributesSchema).optional(),
  /**
   * scan.incremental: buckets whose listing identity was unchanged, whose `attributes` were kept from
   * their last verified read (when, and which) instead of read again…
   */
  keptReads: z
    .record(
      z.string(),
      z.strictObject({ verifiedAt: z.string(), attributes: z.array(z.enum(BUCKET_ATTRIBUTES)) }),
    )
    .optional(),
  /** …and the reads made this run that the next may keep. */
  freshReads: z.array(bucketReadSchema).optional(),
  /** MinIO's users and canned policies, for the owner rule. */
  accounts: observed(storeAccountsSchema).optional(),
  /** The store's users, service accounts and groups with their keys (by digest) and rights, for the key rules. */
  principals: observed(storePrincipalsSchema).optional(),
});
export type StoreScan = z.infer<typeof storeScanSchema>;
