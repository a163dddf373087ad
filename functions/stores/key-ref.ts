// An access key id as scans and reports keep it: its digest and its last four characters
// (core/scan-schema.ts KeyRef). The database computes the same digest of bucket.access_key
// (cloudstack/bucket-rows.ts), so the two are compared without either side holding the other's key.
import { createHash } from 'node:crypto';
import type { KeyRef } from '../core/model.js';

export function keyRef(accessKeyId: string, enabled: boolean): KeyRef {
  return {
    digest: createHash('sha256').update(accessKeyId, 'utf8').digest('hex').slice(0, 32),
    last4: accessKeyId.slice(-4),
    enabled,
  };
}
