// The Step Functions fan-out, for clouds too big for one invocation: `list` settles the run and its
// stores, `scan` audits one store in its own invocation (what it concluded, its findings and
// coverage, kept in the report bucket, so state stays small), `merge` finishes exactly as the
// single-invocation path does.
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { AuditRequest, ShardJudgement, StoreJudgement } from '../audit.js';
import { SHARD_BUCKETS, concludeStore, judgeStoreShard, prepareAudit } from '../audit.js';
import { partitionsFor } from '../common/partitions.js';
import { storeScanSchema } from '../core/scan-schema.js';
import type { StateStorage } from '../state/storage.js';
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
/** One item of the shard manifest: shard `shard` of `shards` of a store split into `partitions`. */
const shardItem = z.object({
  store: z.string().min(1),
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
  partitions: z.number().int().positive(),
});
type ShardItem = z.infer<typeof shardItem>;
const manifestSchema = z.array(shardItem);
/** Where the Distributed Map's result writer put its manifest (ResultWriterDetails). */
const resultsSchema = z.object({ Bucket: z.string().optional(), Key: z.string().min(1) });
const stepSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('list'), input: runInput }),
  run.extend({ step: z.literal('scan') }).extend(shardItem.shape),
  run.extend({
    step: z.literal('merge'),
    manifest: z.object({ key: z.string().min(1) }),
    results: resultsSchema,
  }),
]);
export type FanOutStep = z.infer<typeof stepSchema>;

export interface ListResult {
  runId: string;
  startedAt: string;
  input: unknown;
  /** The shard manifest in the report bucket: the Distributed Map's items (ItemReader). */
  manifest: { key: string };
  shards: number;
}

/** The fan-out's own keys, beside the reports. */
const manifestKey = (runId: string) => `fanout/${runId}/manifest.json`;
const shardKey = (runId: string, item: ShardItem) =>
  `fanout/${runId}/shards/${item.store}/${item.shard}.json`;

/**
 * Each store's rows per fan-out shard when CSDRIFT_FANOUT_SHARDS (the construct's `shards`) is auto:
 * a shard lists the whole store (about 1 request per 100 buckets on RGW) and reads its own part, so a
 * shard of 100,000 buckets is some 100,000 requests, well inside one invocation.
 */
const ROWS_PER_SHARD = 100_000;

/** One shard of a store as the scan step keeps it; checked like any other input when read back. */
const shardJudgementSchema = z.object({
  storeId: z.number().int(),
  findings: z.array(findingSchema),
  coverage: z.array(coverageSchema),
  totals: z.object({
    activeRows: z.number(),
    activeSize: z.number(),
    activeQuotaGb: z.number(),
    holdings: z.record(z.string(), z.object({ count: z.number(), examples: z.array(z.string()) })),
  }),
  summary: storeScanSchema,
  rows: z.number().int().nonnegative(),
  rechecked: z.number().int().nonnegative(),
});

/** The result writer's manifest (Step Functions, ResultWriter): the files of each outcome. */
const resultFilesSchema = z.object({
  ResultFiles: z.object({
    SUCCEEDED: z.array(z.object({ Key: z.string() })).default([]),
    FAILED: z.array(z.object({ Key: z.string() })).default([]),
    PENDING: z.array(z.object({ Key: z.string() })).default([]),
  }),
});
/** One file of the result writer: each child execution with its output (the scan step's return). */
const resultFileSchema = z.array(z.object({ Status: z.string(), Output: z.string().optional() }));
const scanOutputSchema = z.object({ key: z.string().min(1) });

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
    const prepared = await prepareAudit(base, { rows: 'count' });
    const runId = prepared.runId;
    const items = prepared.inventory.stores.flatMap((store) =>
      shardsOf(store.uuid, prepared.counted.get(store.id) ?? 0, settings.config.scan.shards),
    );
    const key = manifestKey(runId);
    await storage.put(key, JSON.stringify(items), 'application/json');
    logger.info('fan-out listed stores', {
      runId,
      stores: prepared.inventory.stores.length,
      shards: items.length,
    });
    return {
      runId,
      startedAt: prepared.started.toISOString(),
      input: event.input,
      manifest: { key: objectKeyOf(storage, key) },
      shards: items.length,
    };
  }

  const shared = { ...base, runId: event.runId, startedAt: new Date(event.startedAt) };
  if (event.step === 'scan') {
    const part = { index: event.shard, of: event.shards, partitions: event.partitions };
    const prepared = await prepareAudit({ ...shared, stores: [event.store] }, { part });
    try {
      const store = prepared.inventory.stores[0];
      if (!store) throw new InvalidInputError(`scan: store ${event.store} is no longer in object_store`);
      // The ledger names buckets last seen in the store, whose disappearance the scan must confirm.
      const { ledger } = await readLedger(storage);
      const {
        scan,
        listed: _listed,
        ...judgement
      } = await judgeStoreShard(
        prepared,
        store,
        { ...shared, previousLedger: ledger, ...(invocation.dryRun ? {} : { state: storage }) },
        part,
      );
      const key = shardKey(event.runId, event);
      await storage.put(key, JSON.stringify(judgement), 'application/json');
      logger.info('store shard scanned', {
        runId: event.runId,
        store: store.name,
        shard: `${event.shard + 1} of ${event.shards}`,
        status: scan.status,
        requests: scan.requests,
      });
      return { key, status: scan.status };
    } finally {
      prepared.close();
    }
  }

  const judged = await mergeShards(storage, event.manifest.key, event.results, shared);
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

/** A store's items of the shard manifest: `shards` (the construct's) or one per ROWS_PER_SHARD rows. */
function shardsOf(store: string, rows: number, configured: number | 'auto'): ShardItem[] {
  const fromEnv = process.env.CSDRIFT_FANOUT_SHARDS;
  const wanted = fromEnv && fromEnv !== 'auto' ? Number(fromEnv) : undefined;
  const shards = Math.max(1, wanted ?? partitionsFor(rows, ROWS_PER_SHARD));
  // Each shard judges its rows a partition of scan.shards' size at a time, as one process does.
  const perShard =
    configured === 'auto' ? partitionsFor(Math.ceil(rows / shards), SHARD_BUCKETS) : configured;
  return Array.from({ length: shards }, (_, shard) => ({
    store,
    shard,
    shards,
    partitions: shards * perShard,
  }));
}

/**
 * The merge: every shard's judgement read back one at a time, through the result writer's files
 * (never the Map's output in the state), added up per store and the store judged whole. A shard
 * missing, failed or unreadable stops the merge: a store is never judged on part of its shards.
 */
async function mergeShards(
  storage: StateStorage,
  manifestObject: string,
  results: z.infer<typeof resultsSchema>,
  request: AuditRequest,
): Promise<StoreJudgement[]> {
  const expected = await readChecked(
    storage,
    keyWithin(storage, manifestObject),
    manifestSchema,
    'the shard manifest',
  );
  const files = await readChecked(
    storage,
    keyWithin(storage, results.Key),
    resultFilesSchema,
    "the map run's results",
  );
  const unfinished = [...files.ResultFiles.FAILED, ...files.ResultFiles.PENDING];
  if (unfinished.length)
    throw new InvalidInputError(
      `merge: ${unfinished.length} result file(s) of failed or unfinished shards (${unfinished[0]?.Key}): no store is judged on part of its shards`,
    );
  const keys: string[] = [];
  for (const file of files.ResultFiles.SUCCEEDED) {
    const entries = await readChecked(
      storage,
      keyWithin(storage, file.Key),
      resultFileSchema,
      `results ${file.Key}`,
    );
    for (const entry of entries) {
      if (entry.Status !== 'SUCCEEDED' || !entry.Output)
        throw new InvalidInputError(`merge: a shard ended ${entry.Status} in ${file.Key}`);
      keys.push(
        parseJson(
          scanOutputSchema,
          entry.Output,
          () => new InvalidInputError(`merge: a shard's output in ${file.Key} is not {key}`),
        ).key,
      );
    }
  }
  const wanted = new Set(expected.map((item) => shardKey(request.runId as string, item)));
  const returned = new Set(keys);
  const missing = [...wanted].filter((k) => !returned.has(k));
  if (missing.length || keys.length !== wanted.size)
    throw new InvalidInputError(
      `merge: the map run returned ${keys.length} shard result(s) for ${wanted.size} in the manifest${missing.length ? ` (missing ${missing[0]})` : ''}`,
    );
  const prepared = await prepareAudit(request, { rows: false });
  try {
    const judgements: StoreJudgement[] = [];
    for (const store of prepared.inventory.stores) {
      const mine = expected
        .filter((item) => item.store === store.uuid)
        .map((item) => shardKey(request.runId as string, item));
      if (!mine.length)
        throw new InvalidInputError(`merge: store ${store.name} has no shard in the manifest`);
      judgements.push(await concludeStore(prepared, store, request, readEach(storage, mine)));
    }
    return judgements;
  } finally {
    prepared.close();
  }
}

/** Each shard's judgement, read and checked one at a time. */
async function* readEach(storage: StateStorage, keys: string[]): AsyncGenerator<ShardJudgement> {
  for (const key of keys)
    yield (await readChecked(
      storage,
      key,
      shardJudgementSchema,
      `the shard ${key}`,
    )) as unknown as ShardJudgement; // shape checked above
}

async function readChecked<S extends z.ZodType>(
  storage: StateStorage,
  key: string,
  schema: S,
  what: string,
): Promise<z.infer<S>> {
  const text = (await storage.read(key))?.text ?? null;
  if (text === null) throw new InvalidInputError(`merge: ${what} (${key}) is missing from the report bucket`);
  // Read back from storage: checked like any other input before the merge believes it.
  return parseJson(
    schema,
    text,
    (problem, cause) =>
      new InvalidInputError(
        problem.kind === 'not-json'
          ? `merge: ${what} (${key}) is not valid JSON`
          : `merge: ${what} (${key}): ${problem.detail}`,
        { cause },
      ),
  );
}

/** The S3 object key of a state key (the ItemReader reads it), or the key itself for a folder. */
function objectKeyOf(storage: StateStorage, key: string): string {
  const location = storage.location(key);
  return location.startsWith('s3://') ? location.slice(location.indexOf('/', 5) + 1) : key;
}

/** A state key from an S3 object key under the report prefix (the result writer's). */
function keyWithin(storage: StateStorage, objectKey: string): string {
  const prefix = objectKeyOf(storage, '');
  if (!storage.location('').startsWith('s3://')) return objectKey;
  if (!objectKey.startsWith(prefix))
    throw new InvalidInputError(`merge: ${objectKey} is not under the report prefix ${prefix}`);
  return objectKey.slice(prefix.length);
}

export const handler = csdriftHandler(fanOutFunction, {
  payload: { schema: stepSchema, name: 'fan-out step' },
  secrets: secrets.middleware,
});
