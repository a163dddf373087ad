// The audit function's settings, from its environment (set by the CDK construct) and its secrets.
import type { DbUrl } from '../cloudstack/db-url.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import { logger } from '../observability.js';
import type { SecretReader } from '../secrets/resolve-secrets.js';
import { resolveSecrets, secretIdsIn } from '../secrets/resolve-secrets.js';
import type { AuditConfig } from '../core/config.js';
import { parseAuditConfig } from '../core/config.js';
import * as z from 'zod';
import { ConfigError } from '../core/errors.js';
import { jsonText, parseAt } from '../core/validation.js';
import { DEFAULT_FORMATS, parseFormats } from '../reports/formats.js';
import type { ReportFormat } from '../reports/formats.js';

const wholeMs = z
  .string()
  .regex(/^\d+$/, { message: 'expected a whole number of milliseconds' })
  .transform(Number);

/** Every variable the functions read (set by the CDK construct); a typo fails loudly, naming it. */
export const functionEnvironmentSchema = z.looseObject({
  REPORT_URI: z
    .string()
    .regex(/^s3:\/\/[^/]+/, { message: 'required: s3://BUCKET/PREFIX' })
    .optional(),
  REPORT_FORMATS: z.string().optional(),
  TOPIC_ARN: z.string().optional(),
  DB_SECRET_ID: z.string().optional(),
  CSDRIFT_CONFIG: jsonText(z.record(z.string(), z.unknown())).optional(),
  /** STORE_SECRETS maps a store (uuid or name) to the secret that holds its { accessKey, secretKey, endpoint? }. */
  STORE_SECRETS: jsonText(z.record(z.string(), z.string().min(1))).optional(),
  WRAP_UP_MS: wholeMs.optional(),
  SECRETS_CACHE_MS: wholeMs.optional(),
  /** The events path: the queue its producers send to, and the webhook's signing secret. */
  EVENT_QUEUE_URL: z.url({ message: 'expected the events queue URL' }).optional(),
  WEBHOOK_SECRET_ID: z.string().min(1).optional(),
  /** The Slack buttons: the app's signing secret, and the function that carries clicks out. */
  SLACK_SIGNING_SECRET_ID: z.string().min(1).optional(),
  CLICK_WORKER_FUNCTION: z.string().min(1).optional(),
  /** The Slack notifier: tasks carry buttons. */
  SLACK_INTERACTIVE: z.enum(['true', 'false']).optional(),
});
export type FunctionEnvironment = z.infer<typeof functionEnvironmentSchema>;

export function functionEnvironment(env: NodeJS.ProcessEnv): FunctionEnvironment {
  return parseAt(functionEnvironmentSchema, env, 'environment', (m, o) => new ConfigError(m, o));
}

/**
 * The function's config before its secrets step: CSDRIFT_CONFIG, with the construct's DB_SECRET_ID
 * as `db.secretId` and STORE_SECRETS as `stores.<store>.secretId` (each winning over the config's).
 */
export function functionConfigSource(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const vars = functionEnvironment(env);
  const raw: Record<string, unknown> = { ...vars.CSDRIFT_CONFIG };
  if (vars.DB_SECRET_ID) raw.db = { secretId: vars.DB_SECRET_ID };
  if (vars.STORE_SECRETS) {
    const stores = { ...(raw.stores as Record<string, object> | undefined) };
    for (const [store, secretId] of Object.entries(vars.STORE_SECRETS)) {
      const { accessKey, secretKey, ...rest } = (stores[store] ?? {}) as Record<string, unknown>;
      stores[store] = { ...rest, secretId };
    }
    raw.stores = stores;
  }
  return raw;
}

/** Every Secrets Manager secret the function's config names: what its middleware fetches. */
export function functionSecretIds(env: NodeJS.ProcessEnv): string[] {
  return secretIdsIn(functionConfigSource(env));
}

/** The events queue, for the functions that send to it: required there, named when missing. */
export function eventQueueUrl(env: NodeJS.ProcessEnv): string {
  const url = functionEnvironment(env).EVENT_QUEUE_URL;
  if (!url) throw new ConfigError('environment: EVENT_QUEUE_URL: required (the events queue URL)');
  return url;
}

export interface FunctionSettings {
  config: AuditConfig;
  db: DbUrl;
  out: string;
  formats: ReportFormat[];
  topicArn: string | undefined;
}

/**
 * Read at every invocation (it is cheap, and the cached secrets may have been rotated): the config's
 * secrets resolved through what middy fetched, then checked; a mistake fails loudly, naming it.
 */
export async function functionSettings(
  env: NodeJS.ProcessEnv,
  reader: SecretReader,
): Promise<FunctionSettings> {
  const vars = functionEnvironment(env);
  if (!vars.REPORT_URI) throw new ConfigError('environment: REPORT_URI: required (s3://BUCKET/PREFIX)');
  const resolved = await resolveSecrets(functionConfigSource(env), {
    source: 'CSDRIFT_CONFIG',
    reader,
    warn: (line) => logger.warn(line),
    labels: { 'db.secretId': 'DB_SECRET_ID' },
  });
  const config = parseAuditConfig(resolved, 'CSDRIFT_CONFIG');
  if (!config.db)
    throw new ConfigError('environment: DB_SECRET_ID: required (or db.secretId in CSDRIFT_CONFIG)');
  return {
    config,
    db: parseDbUrl(config.db.url),
    out: vars.REPORT_URI,
    formats: parseFormats(vars.REPORT_FORMATS ?? DEFAULT_FORMATS),
    topicArn: vars.TOPIC_ARN || undefined,
  };
}
