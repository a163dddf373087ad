// Self-healing of the seed case (apache/cloudstack#10410), opt-in: the owner's own deleteBucket failed
// because the store no longer has the bucket, and the targeted audit that event started confirmed
// `bucket-missing-in-store` on a verified store. The failed delete is the owner's intent, so the
// guarded remediation runs at once (functions/remediate.ts: a fresh look, re-create the empty bucket,
// deleteBucket through the signed API, verify the row removed and the store answering 404) instead
// of a task. Rate-limited per store, stopped by a file in the state folder, and once per appearance of
// a finding (core/actions.ts healRefusal), so the auditor's own calls never start another action.
import type { AuditConfig } from './core/config.js';
import type { Ledger } from './core/ledger.js';
import type { Finding } from './core/model.js';
import { healRefusal } from './core/actions.js';
import { describeStep, planFor } from './core/remediation.js';
import type { Report } from './core/report.js';
import { RemediationRefusedError } from './core/errors.js';
import type { HealedFinding } from './core/notifications.js';
import { record, remediate } from './remediate.js';
import type { DbUrl } from './cloudstack/db-url.js';
import type { StateStorage } from './state/storage.js';
import { readLedger } from './state/ledger-store.js';

/** The kill switch: while this key exists in the state storage (state/ beside the ledger), nothing heals. */
export const KILL_SWITCH_KEY = 'state/auto-remediation.off';

const SEED_RULE = 'bucket-missing-in-store';

export interface HealRequest {
  db: DbUrl;
  config: AuditConfig;
  storage: StateStorage;
  /** The event run's report and the ledger it wrote. */
  report: Report;
  ledger: Ledger;
  ledgerVersion: string | null;
  /** Buckets (by name) whose owner's deleteBucket failed, as the events said. */
  failedDeletes: string[];
  now?: () => Date;
  retryBaseDelayMs?: number;
}

export type HealOutcome =
  | { finding: Finding; outcome: 'healed'; healed: HealedFinding }
  /** Left to a person (a task as before): why. */
  | { finding: Finding; outcome: 'left'; why: string }
  | { finding: Finding; outcome: 'dry-run'; would: string[] }
  | { finding: Finding; outcome: 'failed'; why: string };

/** The seed-case findings of this run that a failed delete named, each healed, left or failed. */
export async function healFailedDeletes(request: HealRequest): Promise<HealOutcome[]> {
  const { config } = request;
  if (!config.remediation.auto.failedDeletes || !request.failedDeletes.length) return [];
  const now = request.now ?? (() => new Date());
  const named = new Set(request.failedDeletes);
  const candidates = request.report.findings.filter(
    (f) => f.rule === SEED_RULE && f.status !== 'suppressed' && f.bucket !== null && named.has(f.bucket),
  );
  const outcomes: HealOutcome[] = [];
  let known = { ledger: request.ledger, version: request.ledgerVersion };
  for (const finding of candidates) {
    const killSwitch = (await request.storage.read(KILL_SWITCH_KEY)) !== null;
    const { ledger } = known;
    const why = healRefusal({ entry: ledger.entries[finding.id], ledger, config, killSwitch, now: now() });
    if (why) {
      outcomes.push({ finding, outcome: 'left', why });
      continue;
    }
    if (config.remediation.auto.dryRun) {
      const would = planFor(finding).map(describeStep);
      known = await record(
        request.storage,
        known,
        finding.id,
        {
          at: now().toISOString(),
          by: 'auto:failed-delete',
          action: 'fix',
          outcome: 'refused',
          detail: `dry run (remediation.auto.dryRun): would ${would.join('; then ')}`,
          dryRun: true,
        },
        undefined,
        config.pricing,
      );
      outcomes.push({ finding, outcome: 'dry-run', would });
      continue;
    }
    try {
      const done = await remediate({
        db: request.db,
        config,
        storage: request.storage,
        findingId: finding.id,
        apply: true,
        approval: { via: 'auto' },
        ...(request.now ? { now: request.now } : {}),
        ...(request.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: request.retryBaseDelayMs } : {}),
      });
      const failed = done.record.steps.find((s) => s.outcome === 'failed');
      if (done.fixed)
        outcomes.push({
          finding,
          outcome: 'healed',
          healed: {
            finding: done.finding,
            by: 'auto:failed-delete',
            at: done.record.at,
            steps: done.record.steps.map((s) => `${describeStep(s.step)}: ${s.detail ?? 'done'}`),
          },
        });
      else
        outcomes.push({
          finding,
          outcome: 'failed',
          why: failed ? `${describeStep(failed.step)}: ${failed.detail ?? 'failed'}` : 'not applied',
        });
    } catch (err) {
      outcomes.push({
        finding,
        outcome: err instanceof RemediationRefusedError ? 'left' : 'failed',
        why: (err as Error).message,
      });
    }
    // The next finding's guards read the ledger as the fix left it (its rate limit counts this one).
    known = await readLedger(request.storage).then((r) => ({
      ledger: r.ledger ?? ledger,
      version: r.version,
    }));
  }
  return outcomes;
}
