// The audit Lambda function: a thin shell over the same run the CLI does. Middleware validates the
// payload (before any work), fetches and caches the secrets; the handler runs and wraps up early
// enough before the function's timeout to write an incomplete report rather than die silently.
import type { Context } from 'aws-lambda';
import { SnsNotifier } from '../notify/sns.js';
import type { AuditResult } from '../observability.js';
import { auditResult, logger } from '../observability.js';
import { openStorage } from '../state/open-storage.js';
import { auditAndPublish } from '../run.js';
import type { AuditInvocation } from './events.js';
import { INVOCATION_EXPECTED, auditInvocationSchema } from './events.js';
import { functionEnvironment } from './environment.js';
import { configSecrets } from './secrets.js';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-audit-secrets'); // what its config names, fetched by middy

const WRAP_UP_MS = functionEnvironment(process.env).WRAP_UP_MS ?? 60_000; // a typo fails the init, loudly
let inFlight: Promise<AuditResult> | undefined;

export async function auditFunction(
  event: AuditInvocation,
  context: Context,
  { signal }: { signal: AbortSignal },
): Promise<AuditResult> {
  const settings = await secrets.settings(context);
  const notifiers = event.notify && settings.topicArn ? [new SnsNotifier(settings.topicArn)] : [];
  logger.info('audit starting', {
    trigger: event.trigger,
    stores: event.stores,
    rules: event.rules,
    buckets: event.buckets,
    dryRun: event.dryRun,
  });
  const outcome = await auditAndPublish({
    db: settings.db,
    config: settings.config,
    stores: event.stores,
    rules: event.rules,
    buckets: event.buckets,
    trigger: event.trigger,
    storage: openStorage(settings.out),
    formats: settings.formats,
    notifiers,
    dryRun: event.dryRun,
    signal,
    onProgress: (p) =>
      p.kind === 'internal-error'
        ? logger.error('internal error while scanning a store', {
            store: p.store.name,
            error: p.error.cause ?? p.error,
          })
        : p.kind === 'store-done'
          ? logger.info('store scanned', {
              store: p.store.name,
              status: p.scan.status,
              buckets: p.listed,
              requests: p.scan.requests,
              ...(p.scan.error ? { error: p.scan.error } : {}),
            })
          : undefined,
  });
  return auditResult(outcome);
}

export const handler = csdriftHandler(
  (event: AuditInvocation, context: Context, options: { signal: AbortSignal }) => {
    inFlight = auditFunction(event, context, options);
    return inFlight;
  },
  {
    payload: { schema: auditInvocationSchema, name: 'payload', expected: INVOCATION_EXPECTED },
    secrets: secrets.middleware,
    // At WRAP_UP_MS before the timeout the signal fires; the run stops scanning, writes what it has
    // as an incomplete report, and that result is what the invocation returns.
    options: { timeoutEarlyInMillis: WRAP_UP_MS, timeoutEarlyResponse: () => inFlight },
  },
);
