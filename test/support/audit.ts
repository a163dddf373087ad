import type { AuditOutcome, AuditRequest } from '../../functions/audit.js';
import { runAudit } from '../../functions/audit.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import type { Report } from '../../functions/core/report.js';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';

/** Short timeouts and backoff so that fault tests stay fast; otherwise the real engine, untouched. */
export const FAST_SCAN = { concurrency: 4, requestTimeoutMs: 1500, maxAttempts: 2 };

/**
 * For audits of the MinIO stand-in: it encrypts its user listings in the test's own process (Argon2id
 * over 64 MiB, as MinIO does), so its answers take the CPU the auditor's requests wait on; a real
 * MinIO is another process. The fast scan's 1.5 s timeout would cut them off.
 */
export const IN_PROCESS_MINIO = { scan: { ...FAST_SCAN, requestTimeoutMs: 15_000 } };

/**
 * The test RGW's admins, as an operator lists the principals that may manage every bucket: the
 * harness keeps three (a system user, a plain admin, a read-only one) and each test's store uses one.
 */
export const KNOWN_ADMINS = { 'store-admin-bypass': { allowed: ['auditadmin', 'plainadmin'] } };

/** A test's config with the harness's known admins beside its own rule options. */
export function withKnownAdmins(config: Record<string, unknown>): Record<string, unknown> {
  const rules = (config.rules ?? {}) as Record<string, unknown>;
  return { ...config, rules: { ...KNOWN_ADMINS, ...rules } };
}

export async function audit(
  database: ThrowawayDatabase,
  config: Record<string, unknown> = {},
  more: Partial<AuditRequest> = {},
): Promise<Report> {
  return (await auditWithLedger(database, config, more)).report;
}

/** The whole outcome: the report and the ledger the run would write. */
export function auditWithLedger(
  database: ThrowawayDatabase,
  config: Record<string, unknown> = {},
  more: Partial<AuditRequest> = {},
): Promise<AuditOutcome> {
  return runAudit({
    db: database.db,
    config: parseAuditConfig(withKnownAdmins({ scan: FAST_SCAN, ...config })),
    stores: [],
    rules: [],
    trigger: 'cli',
    retryBaseDelayMs: 5,
    ...more,
  });
}

/** `rule bucket` pairs, sorted: what a report found, in a form a test can compare. */
export function found(report: Report): string[] {
  return report.findings.map((f) => `${f.rule} ${f.bucket ?? '-'}`).sort();
}
