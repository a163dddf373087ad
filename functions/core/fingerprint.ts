import { createHash } from 'node:crypto';

/** Stable across runs: the same drift on the same bucket keeps its id, so a ledger can follow it. */
export function findingId(
  rule: string,
  storeUuid: string,
  bucket: string | null,
  attribute?: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify([rule, storeUuid, bucket ?? '', attribute ?? '']))
    .digest('hex')
    .slice(0, 32);
}
