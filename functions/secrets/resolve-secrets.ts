// The one step that turns a config's references to secrets into the secrets, before the config is
// parsed: `<key>File: PATH` (systemd credentials, Kubernetes secret volumes, Vault agent files) and
// the Secrets Manager references (`db.secretId`, `stores.<store>.secretId`, `cloudstack.secretId`,
// `notify.slackWebhookSecretId`, `notify.slack.signingSecretId`, `watch.cloudstack.webhookSecretId`). The CLI reads Secrets Manager
// itself; a Lambda function hands over what middy fetched and caches (handlers/secrets.ts). The
// environment's secrets (CSDRIFT_DB_URL, CSDRIFT_DB_URL_FILE, DB_SECRET_ID, STORE_SECRETS) become
// references of the same config before this step (cli/load-config.ts, handlers/environment.ts).
// Every message names the reference, never a secret's text.
import { readFile, stat } from 'node:fs/promises';
import * as z from 'zod';
import { ConfigError } from '../core/errors.js';
import { jsonText } from '../core/validation.js';

/** Where Secrets Manager secrets come from: the API itself, or what a function's middleware fetched. */
export interface SecretReader {
  /** The secret's value: its string, or the JSON value middy already parsed from it. */
  secret(secretId: string, where: string): Promise<unknown>;
}

export interface ResolveOptions {
  /** Named first in every error: the config file, or CSDRIFT_CONFIG. */
  source: string;
  warn: (line: string) => void;
  /** Needed only when the config names a secret; the CLI's default reads Secrets Manager. */
  reader?: SecretReader;
  /** What to call a reference in errors when it did not come from the file (`db.urlFile` → `--db-file`). */
  labels?: Record<string, string>;
}

/** The config's values that may be given as a file, by path (`*` is any store). */
export const FILE_PATHS = [
  ['db', 'url'],
  ['usageDb', 'url'],
  ['stores', '*', 'accessKey'],
  ['stores', '*', 'secretKey'],
  ['notify', 'slackWebhookUrl'],
  ['notify', 'slack', 'signingSecret'],
  ['cloudstack', 'apiKey'],
  ['cloudstack', 'secretKey'],
  ['watch', 'cloudstack', 'amqp', 'url'],
  ['watch', 'cloudstack', 'webhookSecret'],
  ['watch', 'minio', 'authToken'],
  // Not a secret, but a file too (a private CA's PEM): `caBundleFile: PATH`.
  ['stores', '*', 'caBundle'],
] as const;

/** File-given values that are not secret: no warning about who can read them. */
const PUBLIC = new Set(['caBundle']);

/** The standard database secret of RDS and Secrets Manager's rotation templates. */
const dbSecretSchema = z.looseObject({
  host: z.string().min(1),
  port: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
  username: z.string().min(1),
  password: z.string().optional(),
  dbname: z.string().min(1).optional(),
});

/** A secret's value as middy hands it over (JSON already parsed) or as Secrets Manager does (its string). */
const textOrJson = <S extends z.ZodType>(schema: S) => z.union([schema, jsonText(schema)]);

/** What a Secrets Manager secret holds, by the reference that names it, and what it becomes in the config. */
export interface SecretReference {
  /** The object holding the reference (`*` for every store) and its key. */
  at: readonly string[];
  key: string;
  /** What the secret must hold, said in errors. */
  holds: string;
  /** The config keys the secret's value becomes (none of them may be given beside the reference). */
  becomes: readonly string[];
  value(secret: unknown): Record<string, unknown> | undefined;
}

const plainString = (secret: unknown) => (typeof secret === 'string' && secret ? secret : undefined);

const keysSchema = (a: string, b: string) =>
  z.looseObject({ [a]: z.string().min(1), [b]: z.string().min(1) } as Record<string, z.ZodString>);

function parsed<S extends z.ZodType>(schema: S, secret: unknown): z.infer<S> | undefined {
  const result = textOrJson(schema).safeParse(secret);
  return result.success ? result.data : undefined;
}

/** A database's URL, as `db.secretId` and `usageDb.secretId` hold it. */
const DATABASE_SECRET = {
  key: 'secretId',
  holds: 'a mysql:// URL, or JSON {host, port, username, password, dbname}',
  becomes: ['url'],
  value(secret: unknown) {
    const text = plainString(secret);
    if (text?.startsWith('mysql://')) return { url: text };
    const s = parsed(dbSecretSchema, secret);
    return s ? { url: dbUrlText(s) } : undefined;
  },
} as const;

export const SECRET_REFERENCES: readonly SecretReference[] = [
  { at: ['db'], ...DATABASE_SECRET },
  { at: ['usageDb'], ...DATABASE_SECRET },
  {
    at: ['stores', '*'],
    key: 'secretId',
    holds: 'JSON {"accessKey": "…", "secretKey": "…"} (and "endpoint" if it moved)',
    becomes: ['accessKey', 'secretKey'],
    value(secret) {
      const s = parsed(keysSchema('accessKey', 'secretKey'), secret);
      if (!s) return undefined;
      const endpoint = (s as Record<string, unknown>).endpoint;
      return {
        accessKey: s.accessKey,
        secretKey: s.secretKey,
        ...(typeof endpoint === 'string' && endpoint ? { endpoint } : {}),
      };
    },
  },
  {
    at: ['cloudstack'],
    key: 'secretId',
    holds: 'JSON {"apiKey": "…", "secretKey": "…"}',
    becomes: ['apiKey', 'secretKey'],
    value(secret) {
      const s = parsed(keysSchema('apiKey', 'secretKey'), secret);
      return s ? { apiKey: s.apiKey, secretKey: s.secretKey } : undefined;
    },
  },
  {
    at: ['notify'],
    key: 'slackWebhookSecretId',
    holds: 'a webhook URL (a URL, or JSON with "url")',
    becomes: ['slackWebhookUrl'],
    value(secret) {
      const url = slackWebhookUrlOf(secret);
      return url ? { slackWebhookUrl: url } : undefined;
    },
  },
  {
    at: ['notify', 'slack'],
    key: 'signingSecretId',
    holds: 'the Slack app signing secret as a plain string',
    becomes: ['signingSecret'],
    value(secret) {
      const text = plainString(secret);
      return text ? { signingSecret: text.trim() } : undefined;
    },
  },
  {
    at: ['watch', 'cloudstack'],
    key: 'webhookSecretId',
    holds: 'the signing secret as a plain string',
    becomes: ['webhookSecret'],
    value(secret) {
      const text = plainString(secret);
      return text ? { webhookSecret: text } : undefined;
    },
  },
];

/** A Slack webhook secret's URL: the URL, or JSON with `url`; undefined when it holds neither. */
export function slackWebhookUrlOf(secret: unknown): string | undefined {
  const fromJson = parsed(z.looseObject({ url: z.string() }), secret)?.url;
  const url = (fromJson ?? plainString(secret))?.trim();
  return url && /^https?:\/\//.test(url) ? url : undefined;
}

/** A plain-string secret (a webhook's signing secret), or one line saying it holds none. */
export async function plainSecret(reader: SecretReader, secretId: string, where: string): Promise<string> {
  const value = plainString(await reader.secret(secretId, where));
  if (!value) throw new ConfigError(`${where} ${secretId}: the secret holds no string`);
  return value;
}

/** A Slack webhook URL secret, or one line saying it holds none. */
export async function slackWebhookSecret(
  reader: SecretReader,
  secretId: string,
  where: string,
): Promise<string> {
  const url = slackWebhookUrlOf(await reader.secret(secretId, where));
  if (!url)
    throw new ConfigError(
      `${where} ${secretId}: the secret holds no webhook URL (a URL, or JSON with "url")`,
    );
  return url;
}

/** `mysql://…` from the standard database secret, every part escaped. */
function dbUrlText(s: z.infer<typeof dbSecretSchema>): string {
  const e = encodeURIComponent;
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return `mysql://${e(s.username)}:${e(s.password ?? '')}@${host}:${s.port ?? 3306}/${e(s.dbname ?? 'cloud')}`;
}

/** Every Secrets Manager secret the (unparsed) config names, for a function's middleware to fetch. */
export function secretIdsIn(raw: unknown): string[] {
  const ids = SECRET_REFERENCES.flatMap((ref) =>
    holders(raw, ref.at, []).flatMap(([holder]) => {
      const id = holder[ref.key];
      return typeof id === 'string' && id ? [id] : [];
    }),
  );
  return [...new Set(ids)];
}

/** The config with every file and secret reference replaced by what it names; the input is not changed. */
export async function resolveSecrets(raw: unknown, options: ResolveOptions): Promise<unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const config = structuredClone(raw) as Record<string, unknown>;
  const label = (path: string) => options.labels?.[path] ?? `${options.source}: ${path}`;
  for (const path of FILE_PATHS) {
    const key = path[path.length - 1] as string;
    for (const [holder, where] of holders(config, path.slice(0, -1), [])) {
      const file = holder[`${key}File`];
      if (file === undefined) continue;
      const at = label([...where, `${key}File`].join('.'));
      if (typeof file !== 'string' || !file) throw new ConfigError(`${at}: expected a file path`);
      if (holder[key] !== undefined)
        throw new ConfigError(`${options.source}: ${where.join('.')}: give ${key} or ${key}File, not both`);
      const value = await readSecretFile(file, `${at}:`, PUBLIC.has(key) ? () => {} : options.warn);
      // The `…File` key gives way to the value it names, so the config's own schema checks it.
      Reflect.deleteProperty(holder, `${key}File`);
      holder[key] = value;
    }
  }
  let reader = options.reader;
  for (const ref of SECRET_REFERENCES) {
    for (const [holder, where] of holders(config, ref.at, [])) {
      const secretId = holder[ref.key];
      if (secretId === undefined) continue;
      const at = label([...where, ref.key].join('.'));
      if (typeof secretId !== 'string' || !secretId)
        throw new ConfigError(`${at}: expected a secret's name or ARN`);
      const given = ref.becomes.filter((k) => holder[k] !== undefined);
      if (given.length)
        throw new ConfigError(
          `${options.source}: ${where.join('.')}: give ${ref.becomes.join(' and ')} or ${ref.key}, not both`,
        );
      reader ??= await secretsManagerReader();
      const value = ref.value(await reader.secret(secretId, at));
      if (!value) throw new ConfigError(`${at} ${secretId}: expected the secret to hold ${ref.holds}`);
      Reflect.deleteProperty(holder, ref.key);
      Object.assign(holder, value);
    }
  }
  return config;
}

/** A secret file's text; a config error naming what cannot be read, never the text. */
export async function readSecretFile(
  path: string,
  what: string,
  warn: (line: string) => void,
): Promise<string> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.mode & 0o077)
      warn(
        `warning: ${what} ${path} can be read by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${what} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
      },
    );
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new ConfigError(`${what} ${path}: the file is empty`);
  return value;
}

/** Secrets Manager read directly (outside Lambda); the SDK loads only when a config names a secret. */
export async function secretsManagerReader(): Promise<SecretReader> {
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  return {
    async secret(secretId, where) {
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
      } catch (err) {
        throw new ConfigError(`${where} ${secretId}: cannot read it (${(err as Error).name})`, {
          cause: err,
        });
      }
    },
  };
}

/** The objects at `path` (with `*` for every key), and where each is. */
function holders(
  node: unknown,
  path: readonly string[],
  where: string[],
): [Record<string, unknown>, string[]][] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  const object = node as Record<string, unknown>;
  if (!path.length) return [[object, where]];
  const [head, ...rest] = path as [string, ...string[]];
  const keys = head === '*' ? Object.keys(object) : [head];
  return keys.flatMap((k) => (Object.hasOwn(object, k) ? holders(object[k], rest, [...where, k]) : []));
}
