// One audit from start to told: read the ledger, audit, write the reports and the ledger, notify.
// The CLI and the Lambda function both run exactly this.
import type { AuditOutcome, AuditRequest, StoreJudgement } from './audit.js';
import { finishAudit, prepareAudit, runAudit } from './audit.js';
import { StateConflictError } from './core/errors.js';
import type { NotifyOutcome } from './notify/dispatch.js';
import { notifyRun } from './notify/dispatch.js';
import type { Notifier } from './notify/notifier.js';
import type { ReportFormat } from './reports/formats.js';
import { publishRun, reportUri } from './publish.js';
import { readLedger } from './state/ledger-store.js';
import type { HealOutcome } from './heal.js';
import { healFailedDeletes } from './heal.js';
import { healedMessage } from './core/notifications.js';
import type { StateStorage } from './state/storage.js';

export interface RunRequest extends Omit<AuditRequest, 'previousLedger'> {
  storage: StateStorage;
  formats: ReportFormat[];
  notifiers: Notifier[];
  /** A dry run writes its reports but neither the ledger nor any notification. */
  dryRun?: boolean;
  /** Stores judged elsewhere (the Step Functions fan-out): finish from these instead of scanning. */
  judged?: StoreJudgement[];
  /** Buckets (by name) whose owner's deleteBucket failed (an event run): candidates for self-healing. */
  failedDeletes?: string[];
}

export interface RunOutcome extends AuditOutcome {
  reportUri: string;
  /** Set when another run updated the ledger first: this run's reports stand, its ledger and notifications do not. */
  conflict?: StateConflictError;
  /** How many times the run found the ledger changed under it and merged again. */
  merges?: number;
  /** Why the run history beside the ledger was not updated, when it was not. */
  historyProblem?: string;
  notified?: NotifyOutcome;
  /** What self-healing did with the failed deletes this run confirmed. */
  healing?: HealOutcome[];
}

export async function auditAndPublish(request: RunRequest): Promise<RunOutcome> {
  const { storage, formats, notifiers, dryRun, judged, failedDeletes, ...audit } = request;
  // A corrupt ledger stops the run here, before anything is audited or written.
  const stored = await readLedger(storage);
  // A dry run keeps nothing: not even what scan.incremental would keep of its reads.
  const auditRequest = { ...audit, previousLedger: stored.ledger, ...(dryRun ? {} : { state: storage }) };
  const outcome = judged
    ? await finishAudit(await prepareAudit(auditRequest, { rows: false }), judged, auditRequest)
    : await runAudit(auditRequest);
  let published;
  try {
    published = await publishRun({
      storage,
      report: outcome.report,
      ledger: outcome.ledger,
      formats,
      ledgerVersion: stored.version,
      writeLedger: !dryRun,
      rebase: outcome.rebase,
      ...(request.config.pricing ? { pricing: request.config.pricing } : {}),
    });
  } catch (err) {
    if (!(err instanceof StateConflictError)) throw err;
    return { ...outcome, reportUri: reportUri(storage, outcome.report, formats), conflict: err };
  }
  // After a merge, the report and ledger are those written, not those the run first computed.
  const { report, ledger } = published;
  const written = {
    ...outcome,
    report,
    ledger,
    reportUri: published.reportUri,
    merges: published.merges,
    ...(published.historyProblem ? { historyProblem: published.historyProblem } : {}),
  };
  if (dryRun) return written;
  // Before anything is told: a finding healed now gets one `healed` message, never a task.
  const healing = failedDeletes?.length
    ? await healFailedDeletes({
        db: request.db,
        config: request.config,
        storage,
        report,
        ledger,
        ledgerVersion: published.ledgerVersion,
        failedDeletes,
        ...(request.now ? { now: request.now } : {}),
        ...(request.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: request.retryBaseDelayMs } : {}),
      })
    : [];
  const after = healing.length ? await readLedger(storage) : { ledger, version: published.ledgerVersion };
  const healedNow = { ...written, ledger: after.ledger ?? ledger, ...(healing.length ? { healing } : {}) };
  if (!notifiers.length) return healedNow;
  const notified = await notifyRun({
    storage,
    report,
    ledger: after.ledger ?? ledger,
    ledgerVersion: after.version,
    reportUri: published.reportUri,
    notifiers,
    config: request.config.notify,
    extra: healing.flatMap((h) =>
      h.outcome === 'healed' ? [healedMessage(h.healed, report, published.reportUri)] : [],
    ),
    notes: healingNotes(healing),
    ...(request.now ? { now: request.now } : {}),
  });
  return { ...healedNow, notified };
}

/** What a task says of self-healing where it did not heal: tried and failed, left and why, or a dry run. */
function healingNotes(healing: HealOutcome[]): Record<string, string[]> {
  const notes: Record<string, string[]> = {};
  for (const h of healing) {
    const line =
      h.outcome === 'failed'
        ? `Self-healing tried and failed: ${h.why}. The steps before it stand; a person decides now.`
        : h.outcome === 'left'
          ? `Self-healing left it to a person: ${h.why}.`
          : h.outcome === 'dry-run'
            ? `Self-healing (dry run) would ${h.would.join('; then ')}.`
            : undefined;
    if (line) notes[h.finding.id] = [line];
  }
  return notes;
}
