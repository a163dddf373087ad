// Drift is confirmed on both sides. The store side is confirmed by HeadBucket; the DB side by a
// second read, after the scan, of the rows behind every candidate. A create or delete that was in
// flight while the audit ran then shows up as a changed row, not as drift.
import type { DbBucket, StoreScan } from './model.js';
import { isActive } from './model.js';

/** Names on one store whose rows must be read again: confirmed absences and store buckets without an active row. */
export function recheckCandidates(dbBuckets: DbBucket[], scan: StoreScan): string[] {
  const active = new Set(dbBuckets.filter(isActive).map((b) => b.name));
  const absent = Object.entries(scan.absenceChecks)
    .filter(([, c]) => c.result === 'absent')
    .map(([name]) => name);
  const unmatched = scan.buckets.map((b) => b.name).filter((name) => !active.has(name));
  return [...new Set([...absent, ...unmatched])];
}
