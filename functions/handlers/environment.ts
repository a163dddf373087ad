// The audit function's settings, from its environment (set by the CDK construct) and its secrets.
import type { DbUrl } from '../cloudstack/db-url.js';
import type { AuditConfig } from '../core/config.js';
import { parseAuditConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_FORMATS, parseFormats } from '../reports/formats.js';
import type { ReportFormat } from '../reports/formats.js';

/** The standard database secret: { host, port, username, password, dbname }. */
export function dbUrlFromSecret(secret: unknown): DbUrl {
  const s = secret as
    | { host?: string; port?: number | string; username?: string; password?: string; dbname?: string }
    | undefined;
  if (!s?.host || !s.username)
    throw new ConfigError('the database secret needs host, username and password (and port, dbname)');
  return {
    host: s.host,
    port: Number(s.port ?? 3306),
    user: s.username,
    password: s.password ?? '',
    database: s.dbname ?? 'cloud',
  };
}

/** STORE_SECRETS maps a store (uuid or name) to the secret that holds its { accessKey, secretKey, endpoint? }. */
export function storeSecretIds(env: NodeJS.ProcessEnv): Record<string, string> {
  if (!env.STORE_SECRETS) return {};
  try {
    return JSON.parse(env.STORE_SECRETS) as Record<string, string>;
  } catch {
    throw new ConfigError('STORE_SECRETS: not valid JSON (expected {"<store uuid or name>": "<secret id>"})');
  }
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
  const raw = parseJsonObject(env.CSDRIFT_CONFIG, 'CSDRIFT_CONFIG');
  const stores = { ...(raw.stores as Record<string, object> | undefined) };
  for (const [key, secret] of Object.entries(storeSecrets))
    stores[key] = { ...stores[key], ...(secret as object) };
  if (!env.REPORT_URI) throw new ConfigError('REPORT_URI: required (s3://BUCKET/PREFIX)');
  return {
    config: parseAuditConfig({ ...raw, stores }, 'CSDRIFT_CONFIG'),
    out: env.REPORT_URI,
    formats: parseFormats(env.REPORT_FORMATS ?? DEFAULT_FORMATS),
    topicArn: env.TOPIC_ARN || undefined,
  };
}

function parseJsonObject(text: string | undefined, name: string): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${name}: not valid JSON`);
  }
}
