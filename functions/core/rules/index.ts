import type { RuleId } from '../model.js';
import { bucketAccountRemoved } from './bucket-account-removed.js';
import { bucketDuplicateName } from './bucket-duplicate-name.js';
import { bucketMissingInStore } from './bucket-missing-in-store.js';
import { bucketRemovedButPresent } from './bucket-removed-but-present.js';
import { bucketStuckAllocated } from './bucket-stuck-allocated.js';
import { bucketUnmanagedInStore } from './bucket-unmanaged-in-store.js';
import type { Rule } from './rule.js';
import { storeUnverified } from './store-unverified.js';
import { bucketOwnerMismatch } from './bucket-owner-mismatch.js';
import { bucketVersioningMismatch } from './bucket-versioning-mismatch.js';
import { bucketEncryptionMismatch } from './bucket-encryption-mismatch.js';
import { bucketObjectLockMismatch } from './bucket-object-lock-mismatch.js';
import { bucketPolicyMismatch } from './bucket-policy-mismatch.js';
import { bucketQuotaMismatch } from './bucket-quota-mismatch.js';
import { bucketUsageDrift } from './bucket-usage-drift.js';
import { storeAccountingDrift } from './store-accounting-drift.js';

export const RULES: Record<RuleId, Rule> = {
  'bucket-missing-in-store': bucketMissingInStore,
  'bucket-unmanaged-in-store': bucketUnmanagedInStore,
  'bucket-removed-but-present': bucketRemovedButPresent,
  'bucket-stuck-allocated': bucketStuckAllocated,
  'bucket-duplicate-name': bucketDuplicateName,
  'bucket-account-removed': bucketAccountRemoved,
  'bucket-owner-mismatch': bucketOwnerMismatch,
  'bucket-versioning-mismatch': bucketVersioningMismatch,
  'bucket-encryption-mismatch': bucketEncryptionMismatch,
  'bucket-object-lock-mismatch': bucketObjectLockMismatch,
  'bucket-policy-mismatch': bucketPolicyMismatch,
  'bucket-quota-mismatch': bucketQuotaMismatch,
  'bucket-usage-drift': bucketUsageDrift,
  'store-accounting-drift': storeAccountingDrift,
  'store-unverified': storeUnverified,
};

export type { Rule, RuleContext, StoreView } from './rule.js';
