// An access key id as scans and reports keep it: its digest and its last four characters
// (core/scan-schema.ts KeyRef). The database computes the same digest of bucket.access_key
// (cloudstack/bucket-rows.ts), so the two are compared without either side holding the other's key.
import { createHash } from 'node:crypto';
import type { KeyRef } from '../core/model.js';

export function keyRef(accessKeyId: string, enabled: boolean): KeyRef {
  return {
    // The first 16 bytes in hex: a string of its own, where slicing the whole hex would keep all 64
    // characters alive behind every key of ten thousand users.
    digest: createHash('sha256').update(accessKeyId, 'utf8').digest().toString('hex', 0, 16),
    last4: accessKeyId.slice(-4),
    enabled,
  };
}
