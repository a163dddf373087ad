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

export const storeBucketSchema = z.strictObject({
  name: z.string().min(1),
  owner: z.string().optional(),
  createdAt: z.string().optional(),
  /** What the store says the bucket holds, where its listing tells (RGW's stats listing). */
  bytes: z.number().nonnegative().optional(),
});
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

/** MinIO: every canned policy by name, with the buckets it grants access to. */
export const storeAccountsSchema = z.strictObject({ policies: z.record(z.string(), z.array(z.string())) });
export type StoreAccounts = z.infer<typeof storeAccountsSchema>;

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
  /** MinIO's users and canned policies, for the owner rule. */
  accounts: observed(storeAccountsSchema).optional(),
});
export type StoreScan = z.infer<typeof storeScanSchema>;
