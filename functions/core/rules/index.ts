import type { RuleId } from '../model.js';
import { bucketAccountRemoved } from './bucket-account-removed.js';
import { bucketDuplicateName } from './bucket-duplicate-name.js';
import { bucketMissingInStore } from './bucket-missing-in-store.js';
import { bucketRemovedButPresent } from './bucket-removed-but-present.js';
import { bucketStuckAllocated } from './bucket-stuck-allocated.js';
import { bucketUnmanagedInStore } from './bucket-unmanaged-in-store.js';
import type { Rule } from './rule.js';
import { storeUnverified } from './store-unverified.js';

export const RULES: Record<RuleId, Rule> = {
  'bucket-missing-in-store': bucketMissingInStore,
  'bucket-unmanaged-in-store': bucketUnmanagedInStore,
  'bucket-removed-but-present': bucketRemovedButPresent,
  'bucket-stuck-allocated': bucketStuckAllocated,
  'bucket-duplicate-name': bucketDuplicateName,
  'bucket-account-removed': bucketAccountRemoved,
  'store-unverified': storeUnverified,
};

export type { Rule, RuleContext, StoreView } from './rule.js';
