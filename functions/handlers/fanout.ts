// The Step Functions fan-out, for clouds too big for one invocation: `list` settles the run and its
// stores, `scan` audits one store in its own invocation (what it concluded, its findings and
// coverage, kept in the report bucket, so state stays small), `merge` finishes exactly as the
// single-invocation path does.
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { AuditRequest, StoreJudgement } from '../audit.js';
import { judgeStore, prepareAudit } from '../audit.js';
import { InvalidInputError } from '../core/errors.js';
import { coverageSchema, findingSchema } from '../core/report-schema.js';
import { parseJson } from '../core/validation.js';
import { SnsNotifier } from '../notify/sns.js';
import type { AuditResult } from '../observability.js';
import { auditResult, logger } from '../observability.js';
import { readLedger } from '../state/ledger-store.js';
import { openStorage } from '../state/open-storage.js';
import { auditAndPublish } from '../run.js';

import type { AuditInvocation } from './events.js';
import { auditInvocationSchema, parseInvocation } from './events.js';
import { configSecrets } from './secrets.js';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-fanout-secrets'); // what its config names, fetched by middy

/** The run's own payload, kept as it came (each step hands it on) and checked as the audit function checks it. */
const runInput = z.unknown().superRefine((input, ctx) => {
  const result = auditInvocationSchema.safeParse(input);
  if (!result.success)
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
});
const run = z.object({ runId: z.string().min(1), startedAt: z.iso.datetime(), input: runInput });
const stepSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('list'), input: runInput }),
  run.extend({ step: z.literal('scan'), store: z.string().min(1) }),
  run.extend({ step: z.literal('merge'), scans: z.array(z.object({ key: z.string().min(1) })) }),
]);
export type FanOutStep = z.infer<typeof stepSchema>;

export interface ListResult {
  runId: string;
  startedAt: string;
  input: unknown;
  stores: string[];
}

const scanKey = (runId: string, store: string) => `scans/${runId}/${store}.json`;

/** One store's judgement as the scan step keeps it; checked like any other input when read back. */
const judgementSchema = z.object({
  storeId: z.number().int(),
  findings: z.array(findingSchema),
  coverage: coverageSchema,
  rows: z.number().int().nonnegative(),
  rechecked: z.number().int().nonnegative(),
});

export async function fanOutFunction(
  event: FanOutStep,
  context: Context,
): Promise<ListResult | { key: string; status: string } | AuditResult> {
  const settings = await secrets.settings(context);
  const invocation: AuditInvocation = parseInvocation(event.input);
  const base: AuditRequest = {
    db: settings.db,
    config: settings.config,
    stores: invocation.stores,
    rules: invocation.rules,
    buckets: invocation.buckets,
    trigger: invocation.trigger,
  };
  const storage = openStorage(settings.out);

  if (event.step === 'list') {
    const prepared = await prepareAudit(base, { rows: false });
    const result = {
      runId: prepared.runId,
      startedAt: prepared.started.toISOString(),
      input: event.input,
      stores: prepared.inventory.stores.map((s) => s.uuid),
    };
    logger.info('fan-out listed stores', { runId: result.runId, stores: result.stores.length });
    return result;
  }

  const shared = { ...base, runId: event.runId, startedAt: new Date(event.startedAt) };
  if (event.step === 'scan') {
    const prepared = await prepareAudit({ ...shared, stores: [event.store] });
    try {
      const store = prepared.inventory.stores[0];
      if (!store) throw new InvalidInputError(`scan: store ${event.store} is no longer in object_store`);
      // The ledger names buckets last seen in the store, whose disappearance the scan must confirm.
      const { ledger } = await readLedger(storage);
      const {
        scan,
        listed: _listed,
        ...judgement
      } = await judgeStore(prepared, store, {
        ...shared,
        previousLedger: ledger,
        ...(invocation.dryRun ? {} : { state: storage }),
      });
      const key = scanKey(event.runId, store.uuid);
      await storage.put(key, JSON.stringify(judgement), 'application/json');
      logger.info('store scanned', {
        runId: event.runId,
        store: store.name,
        status: scan.status,
        requests: scan.requests,
      });
      return { key, status: scan.status };
    } finally {
      prepared.close();
    }
  }

  const judged = await Promise.all(
    event.scans.map(async ({ key }) => {
      const text = (await storage.read(key))?.text ?? null;
      if (text === null)
        throw new InvalidInputError(`merge: the scan ${key} is missing from the report bucket`);
      // Read back from storage: checked like any other input before the merge believes it.
      return parseJson(
        judgementSchema,
        text,
        (problem, cause) =>
          new InvalidInputError(
            problem.kind === 'not-json'
              ? `merge: the scan ${key} is not valid JSON`
              : `merge: the scan ${key}: ${problem.detail}`,
            { cause },
          ),
      ) as unknown as StoreJudgement; // written by the scan step from a StoreJudgement, its shape checked above
    }),
  );
  const outcome = await auditAndPublish({
    ...shared,
    storage,
    formats: settings.formats,
    notifiers: invocation.notify && settings.topicArn ? [new SnsNotifier(settings.topicArn)] : [],
    dryRun: invocation.dryRun,
    judged,
  });
  return auditResult(outcome);
}

export const handler = csdriftHandler(fanOutFunction, {
  payload: { schema: stepSchema, name: 'fan-out step' },
  secrets: secrets.middleware,
});
