// One row per finding. Bucket, account and project names are chosen by users, so every cell that a
// spreadsheet would read as a formula is neutralised (OWASP: prefix a quote).
import { stringify } from 'csv-stringify/sync';
import type { Report } from '../core/report.js';

/**
 * A formula, even after leading whitespace or control characters (spreadsheets trim those before
 * they look for `=`): ` =1+1`, `\n@SUM(…)`, `\u00a0+cmd`. A tab or CR at the start is one too.
 */
const FORMULA_START = /^[\s\p{Cc}\p{Cf}]*[=+\-@]|^[\t\r]/u;

export function neutralise(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

const COLUMNS = [
  'id',
  'status',
  'severity',
  'rule',
  'store',
  'store_uuid',
  'provider',
  'bucket',
  'db_bucket_id',
  'account',
  'account_uuid',
  'domain',
  'project',
  'message',
  'remediation',
  'first_seen',
  'last_seen',
  'attribute',
  'cloudstack_value',
  'store_value',
  'bytes',
] as const;

export function renderCsv(report: Report): string {
  const rows = report.findings.map((f) => [
    f.id,
    f.status,
    f.severity,
    f.rule,
    f.store.name,
    f.store.uuid,
    f.store.provider,
    f.bucket ?? '',
    f.dbBucket ? String(f.dbBucket.id) : '',
    f.owner?.accountName ?? '',
    f.owner?.accountUuid ?? '',
    f.owner?.domainPath ?? '',
    f.owner?.projectName ?? '',
    f.message,
    f.remediation.summary,
    f.firstSeen,
    f.lastSeen,
    f.attribute ?? '',
    f.expected === undefined ? '' : JSON.stringify(f.expected),
    f.actual === undefined ? '' : JSON.stringify(f.actual),
    f.bytes === undefined ? '' : String(f.bytes),
  ]);
  return stringify([[...COLUMNS], ...rows.map((row) => row.map(neutralise))], {
    record_delimiter: 'windows',
    // Any cell with a line break of either kind is quoted, so it stays one cell of one record.
    quoted_match: /[\r\n]/,
  });
}
