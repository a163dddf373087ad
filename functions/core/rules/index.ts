// The registry: every rule, one line each, in the order reports and the README list them. Rule ids,
// the config's rule options, the scan's needs, billing, presence tracking, remediation, `csdrift
// rules` and the README's rules table are all read from here.
import { bucketAccountRemoved } from './bucket-account-removed.js';
import { bucketBilledAfterRemoval } from './bucket-billed-after-removal.js';
import { bucketCredentialsStale } from './bucket-credentials-stale.js';
import { bucketDuplicateName } from './bucket-duplicate-name.js';
import { bucketEncryptionMismatch } from './bucket-encryption-mismatch.js';
import { bucketMissingInStore } from './bucket-missing-in-store.js';
import { bucketObjectLockMismatch } from './bucket-object-lock-mismatch.js';
import { bucketOwnerMismatch } from './bucket-owner-mismatch.js';
import { bucketPolicyMismatch } from './bucket-policy-mismatch.js';
import { bucketQuotaMismatch } from './bucket-quota-mismatch.js';
import { bucketRemovedButPresent } from './bucket-removed-but-present.js';
import { bucketStuckAllocated } from './bucket-stuck-allocated.js';
import { bucketUnmanagedInStore } from './bucket-unmanaged-in-store.js';
import { bucketUrlStale } from './bucket-url-stale.js';
import { bucketUsageDrift } from './bucket-usage-drift.js';
import { bucketVersioningMismatch } from './bucket-versioning-mismatch.js';
import type { RuleOptions, ShapeOf } from './options.js';
import type { Rule } from './rule.js';
import { storeAccountingDrift } from './store-accounting-drift.js';
import { storeAdminBypass } from './store-admin-bypass.js';
import { storeUnverified } from './store-unverified.js';
import { storeUserOrphaned } from './store-user-orphaned.js';

const REGISTRY = [
  bucketMissingInStore,
  bucketUnmanagedInStore,
  bucketRemovedButPresent,
  bucketStuckAllocated,
  bucketDuplicateName,
  bucketAccountRemoved,
  bucketUrlStale,
  bucketBilledAfterRemoval,
  bucketOwnerMismatch,
  bucketVersioningMismatch,
  bucketEncryptionMismatch,
  bucketObjectLockMismatch,
  bucketPolicyMismatch,
  bucketQuotaMismatch,
  bucketUsageDrift,
  bucketCredentialsStale,
  storeUserOrphaned,
  storeAdminBypass,
  storeAccountingDrift,
  storeUnverified,
] as const;

export type RuleId = (typeof REGISTRY)[number]['id'];

/** Every rule id, in registry order. */
export const RULE_IDS = REGISTRY.map((r) => r.id) as unknown as readonly [RuleId, ...RuleId[]];

/** The rule of this id, with its options' shape. */
type RuleOf<Id extends RuleId> = Extract<(typeof REGISTRY)[number], { id: Id }>;

/** `rules.<id>` in the config: the common options, and this rule's own, typed from its schema. */
export type RuleOptionsOf<Id extends RuleId> = RuleOptions<ShapeOf<RuleOf<Id>>>;

/** Every rule by id. */
export const RULES = Object.fromEntries(REGISTRY.map((r) => [r.id, r])) as Record<RuleId, Rule<RuleId>>;

/** Every rule, in registry order. */
export const RULE_LIST: readonly Rule<RuleId>[] = REGISTRY;

export type { Grace, Rule, RuleContext, StoreView } from './rule.js';
