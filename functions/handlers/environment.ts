// The audit function's settings, from its environment (set by the CDK construct) and its secrets.
import type { DbUrl } from '../cloudstack/db-url.js';
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
});
export type FunctionEnvironment = z.infer<typeof functionEnvironmentSchema>;

export function functionEnvironment(env: NodeJS.ProcessEnv): FunctionEnvironment {
  return parseAt(functionEnvironmentSchema, env, 'environment', (m, o) => new ConfigError(m, o));
}

/** The standard database secret: { host, port, username, password, dbname }. */
const dbSecretSchema = z.looseObject({
  host: z.string().min(1),
  port: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  username: z.string().min(1),
  password: z.string().optional(),
  dbname: z.string().min(1).optional(),
});

export function dbUrlFromSecret(secret: unknown): DbUrl {
  const s = parseAt(
    dbSecretSchema,
    secret,
    'the database secret',
    (m, o) => new ConfigError(`${m} (expected {host, port, username, password, dbname})`, o),
  );
  return {
    host: s.host,
    port: s.port ?? 3306,
    user: s.username,
    password: s.password ?? '',
    database: s.dbname ?? 'cloud',
  };
}

/**
 * The Secrets Manager secret of each store that has one: STORE_SECRETS (set by the construct) and
 * `stores.<store>.secretId` in CSDRIFT_CONFIG, the former winning.
 */
export function storeSecretIds(env: NodeJS.ProcessEnv): Record<string, string> {
  const vars = functionEnvironment(env);
  const stores = (vars.CSDRIFT_CONFIG?.stores ?? {}) as Record<string, { secretId?: unknown }>;
  const fromConfig = Object.entries(stores).flatMap(([store, o]) =>
    typeof o?.secretId === 'string' && o.secretId ? [[store, o.secretId] as const] : [],
  );
  return { ...Object.fromEntries(fromConfig), ...vars.STORE_SECRETS };
}

/** The database secret: DB_SECRET_ID (set by the construct), else `db.secretId` in CSDRIFT_CONFIG. */
export function dbSecretId(env: NodeJS.ProcessEnv): string {
  const vars = functionEnvironment(env);
  const db = vars.CSDRIFT_CONFIG?.db as { secretId?: unknown } | undefined;
  return vars.DB_SECRET_ID || (typeof db?.secretId === 'string' ? db.secretId : '');
}

/** The events queue, for the functions that send to it: required there, named when missing. */
export function eventQueueUrl(env: NodeJS.ProcessEnv): string {
  const url = functionEnvironment(env).EVENT_QUEUE_URL;
  if (!url) throw new ConfigError('environment: EVENT_QUEUE_URL: required (the events queue URL)');
  return url;
}

export interface FunctionSettings {
  config: AuditConfig;
  out: string;
  formats: ReportFormat[];
  topicArn: string | undefined;
}

/** Read at every invocation (it is cheap, and store secrets arrive per invocation): a mistake fails loudly, naming what is wrong. */
export function functionSettings(
  env: NodeJS.ProcessEnv,
  storeSecrets: Record<string, unknown>,
): FunctionSettings {
  const vars = functionEnvironment(env);
  // In a function the database comes from its secret, and each store's secretId has been fetched:
  // the secret's keys take its place.
  const { db, ...raw } = vars.CSDRIFT_CONFIG ?? {};
  const stores = { ...(raw.stores as Record<string, object> | undefined) };
  for (const [key, secret] of Object.entries(storeSecrets)) {
    const { secretId, ...rest } = (stores[key] ?? {}) as { secretId?: string };
    stores[key] = { ...rest, ...(secret as object) };
  }
  if (!vars.REPORT_URI) throw new ConfigError('environment: REPORT_URI: required (s3://BUCKET/PREFIX)');
  return {
    config: parseAuditConfig({ ...raw, stores }, 'CSDRIFT_CONFIG'),
    out: vars.REPORT_URI,
    formats: parseFormats(vars.REPORT_FORMATS ?? DEFAULT_FORMATS),
    topicArn: vars.TOPIC_ARN || undefined,
  };
}
