// Guarded remediation of one finding. Refuses unless the finding is open (the last run that covered
// its bucket and rule saw it), consent is given (from the command line: the rule's opt-in and two
// consecutive sightings; an approver's click; the self-healing rule's failed delete), and a fresh
// look now still finds it on a verified store. Without `apply` it only plans. Every attempt goes to
// remediations/, and every action, refused ones included, to the finding's trail in the ledger.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { runAudit } from './audit.js';
import { CloudStackApi } from './cloudstack/api-client.js';
import type { DbUrl } from './cloudstack/db-url.js';
import { recheckBucketRows } from './cloudstack/inventory.js';
import { ownerStoreKeys } from './cloudstack/owner-keys.js';
import type { AuditConfig } from './core/config.js';
import type { FindingAction, Ledger } from './core/ledger.js';
import { withAction } from './core/actions.js';
import { RemediationFailedError, RemediationRefusedError } from './core/errors.js';
import type { Finding, StoreRecord } from './core/model.js';
import type { RemediationRecord, RemediationStep } from './core/remediation.js';
import type { Approval } from './core/remediation.js';
import { actionBy, describeStep, planFor, refusal, whyNoPlan } from './core/remediation.js';
import { writeCurrentView } from './publish.js';
import { changeLedger, readLedger } from './state/ledger-store.js';
import type { StateStorage } from './state/storage.js';
import { CountingHttpHandler } from './stores/http.js';
import { headBucket, makeS3Client } from './stores/s3-client.js';

export interface RemediateRequest {
  db: DbUrl;
  config: AuditConfig;
  storage: StateStorage;
  findingId: string;
  apply: boolean;
  /** Who consents (default: the command line). */
  approval?: Approval;
  now?: () => Date;
  retryBaseDelayMs?: number;
}

export interface RemediateOutcome {
  finding: Finding;
  record: RemediationRecord;
  /** Applied and every step done: the finding is fixed and verified. */
  fixed: boolean;
}

export async function remediate(request: RemediateRequest): Promise<RemediateOutcome> {
  const { config, findingId } = request;
  const approval = request.approval ?? { via: 'cli' };
  const now = request.now ?? (() => new Date());
  const stored = await readLedger(request.storage);
  const entry = stored.ledger?.entries[findingId];
  const refuse = async (why: string): Promise<never> => {
    // A refused action is recorded on its finding when it has one: the trail says who tried what.
    if (request.apply && entry && stored.ledger)
      await record(request.storage, { ledger: stored.ledger, version: stored.version }, findingId, {
        at: now().toISOString(),
        by: actionBy(approval),
        action: 'fix',
        outcome: 'refused',
        detail: why,
      }).catch(() => {});
    throw new RemediationRefusedError(`refused: ${why}`);
  };
  const refused = refusal(findingId, entry, stored.ledger, config, request.apply, approval);
  if (refused || !entry || !stored.ledger)
    return refuse(refused ?? `finding ${findingId} is not in the ledger`);

  // A fresh look now: the ledger may be a day old and the store may have changed since. Only the
  // finding's bucket is looked at (a store-wide finding: the whole store).
  const fresh = await runAudit({
    db: request.db,
    config,
    stores: [entry.store.uuid],
    rules: [entry.rule],
    ...(entry.bucket ? { buckets: [entry.bucket] } : {}),
    trigger: 'manual',
    previousLedger: stored.ledger,
    ...(request.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: request.retryBaseDelayMs } : {}),
  });
  const coverage = fresh.report.coverage[0];
  if (coverage?.status !== 'verified' || coverage.checks[entry.rule] !== 'verified')
    return refuse(
      `store ${entry.store.name} is not verified now (${coverage?.status ?? 'not found'}${coverage?.error ? `: ${coverage.error}` : ''}); nothing was changed`,
    );
  const finding = fresh.report.findings.find((f) => f.id === findingId);
  if (!finding) return refuse(`a fresh look no longer finds ${findingId}; nothing was changed`);
  const store = fresh.stores[0] as StoreRecord;

  const noPlan = whyNoPlan(finding);
  if (noPlan) return refuse(`${noPlan}; nothing was changed`);
  const plan = planFor(finding);
  const attempt: RemediationRecord = {
    at: now().toISOString(),
    findingId,
    applied: request.apply,
    steps: plan.map((step) => ({ step, outcome: 'planned' as const })),
  };
  if (request.apply) {
    // Its keys were read with the config's other secrets (from files or cloudstack.secretId).
    const cs = config.cloudstack;
    const api =
      cs?.apiKey && cs.secretKey
        ? { apiUrl: cs.apiUrl, apiKey: cs.apiKey, secretKey: cs.secretKey }
        : undefined;
    if (!api)
      return refuse(
        'the fix needs the CloudStack API in the config (cloudstack.apiUrl, and apiKey/secretKey or secretId)',
      );
    await carryOut(plan, attempt, { ...request, finding, store, api: new CloudStackApi(api) });
  }
  const fixed = request.apply && attempt.steps.every((s) => s.outcome === 'done');
  const known = { ledger: stored.ledger, version: stored.version };
  await remember(request.storage, known, attempt, approval, fixed, fresh.report.runId, config.pricing);
  return { finding, record: attempt, fixed };
}

interface StepContext extends RemediateRequest {
  finding: Finding;
  store: StoreRecord;
  api: CloudStackApi;
}

/** Runs the steps in order and stops at the first that fails, saying which and why. */
async function carryOut(plan: RemediationStep[], record: RemediationRecord, ctx: StepContext): Promise<void> {
  for (const [i, step] of plan.entries()) {
    const slot = record.steps[i] as RemediationRecord['steps'][number];
    try {
      slot.detail = await runStep(step, ctx);
      slot.outcome = 'done';
    } catch (err) {
      slot.outcome = 'failed';
      slot.detail = (err as Error).message;
      return;
    }
  }
}

async function runStep(step: RemediationStep, ctx: StepContext): Promise<string> {
  const options = {
    ...ctx.config.scan,
    retryBaseDelayMs: ctx.retryBaseDelayMs ?? 200,
    ...(ctx.store.ca ? { ca: ctx.store.ca } : {}),
  };
  switch (step.action) {
    case 'recreate-empty-bucket': {
      const owner = ctx.finding.owner;
      const keys =
        step.with === 'owner keys' && owner
          ? await ownerStoreKeys(ctx.db, owner.accountUuid, ctx.store.provider)
          : ctx.store.credentials;
      if (!keys)
        throw new RemediationFailedError(
          `no ${step.with} for ${owner?.accountName ?? 'the owner'} in the CloudStack database`,
        );
      const handler = new CountingHttpHandler(options);
      const s3 = makeS3Client({ ...ctx.store, credentials: keys }, handler, options);
      try {
        await s3.send(new CreateBucketCommand({ Bucket: step.bucket }));
      } finally {
        s3.destroy();
      }
      return `created ${step.bucket}`;
    }
    case 'cloudstack-delete-bucket':
      await ctx.api.callAsync('deleteBucket', { id: step.bucketUuid });
      return 'CloudStack deleted the bucket';
    case 'verify-row-removed': {
      const rows = await recheckBucketRows(ctx.db, [ctx.finding.bucket ?? '']);
      const row = rows.find((r) => r.id === step.bucketId);
      if (!row?.removed) throw new RemediationFailedError(`bucket row ${step.bucketId} is still active`);
      return `row ${step.bucketId} removed at ${row.removed}`;
    }
    case 'cloudstack-update-bucket':
      await ctx.api.call('updateBucket', { id: step.bucketUuid, [step.parameter]: step.value });
      return `CloudStack re-applied ${step.parameter}=${step.value}`;
    case 'verify-finding-gone': {
      const again = await runAudit({
        db: ctx.db,
        config: ctx.config,
        stores: [ctx.store.uuid],
        rules: [step.rule],
        trigger: 'manual',
        ...(ctx.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: ctx.retryBaseDelayMs } : {}),
      });
      const check = again.report.coverage[0]?.checks[step.rule];
      if (check !== 'verified')
        throw new RemediationFailedError(
          `the ${step.rule} check is ${check ?? 'missing'} now: cannot confirm`,
        );
      if (again.report.findings.some((f) => f.id === step.findingId))
        throw new RemediationFailedError('a fresh audit still finds the drift');
      return 'a fresh audit no longer finds it';
    }
    case 'verify-absent-in-store': {
      const handler = new CountingHttpHandler(options);
      const s3 = makeS3Client(ctx.store, handler, options);
      try {
        const seen = await headBucket(s3, step.bucket);
        if (seen.result !== 'absent')
          throw new RemediationFailedError(`the store still answers for ${step.bucket} (${seen.result})`);
      } finally {
        s3.destroy();
      }
      return 'HeadBucket 404';
    }
  }
}

/**
 * The attempt goes into remediations/ beside the runs and, when applied, onto the finding's trail. A
 * fix by a click or by self-healing is told by its own message, so it resolves the entry at once; a
 * fix from the command line is resolved (and told) by the next audit, as before.
 */
async function remember(
  storage: StateStorage,
  stored: { ledger: Ledger; version: string | null },
  attempt: RemediationRecord,
  approval: Approval,
  fixed: boolean,
  runId: string,
  pricing: AuditConfig['pricing'],
): Promise<void> {
  const stamp = attempt.at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  await storage.put(
    `remediations/${stamp}-${attempt.findingId}.json`,
    `${JSON.stringify({ ...attempt, by: actionBy(approval) }, null, 2)}\n`,
    'application/json',
  );
  if (!attempt.applied) return;
  const failed = attempt.steps.find((s) => s.outcome === 'failed');
  const done = attempt.steps.map((s) => s.detail).filter(Boolean);
  const action: FindingAction = {
    at: attempt.at,
    by: actionBy(approval),
    action: 'fix',
    outcome: failed ? 'failed' : 'done',
    detail: failed ? `${describeStep(failed.step)}: ${failed.detail ?? 'failed'}` : done.join('; ') || 'done',
  };
  const resolves = fixed && approval.via !== 'cli' ? { at: new Date().toISOString(), runId } : undefined;
  await record(storage, stored, attempt.findingId, action, resolves, pricing);
}

/** One action laid on the ledger as it stands now (a run may have written it meanwhile), then the current view. */
export async function record(
  storage: StateStorage,
  stored: { ledger: Ledger; version: string | null },
  findingId: string,
  action: FindingAction,
  resolves?: { at: string; runId: string },
  pricing?: AuditConfig['pricing'],
): Promise<{ ledger: Ledger; version: string }> {
  const written = await changeLedger(storage, stored, (current) =>
    withAction(current, findingId, action, resolves),
  );
  await writeCurrentView(storage, ['json', 'html'], written, pricing);
  return written;
}
