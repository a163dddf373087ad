// Secrets given as files instead of text (systemd credentials, Kubernetes secret volumes, Vault agent
// files): `urlFile: PATH` stands for `url: <the file's text>`. The file is read at start, its
// trailing newline dropped; a file others can read draws a warning, naming it, never its content.
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../core/errors.js';

/** The config's secrets that may be given as a file, by path (`*` is any store). */
const SECRET_PATHS = [
  ['db', 'url'],
  ['stores', '*', 'accessKey'],
  ['stores', '*', 'secretKey'],
  ['notify', 'slackWebhookUrl'],
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

/** A secret file's text; a config error naming what cannot be read. */
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
    );
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new ConfigError(`${what} ${path}: the file is empty`);
  return value;
}

/** The parsed config with every `<secret>File` replaced by the secret it names. */
export async function resolveSecretFiles(
  raw: unknown,
  source: string,
  warn: (line: string) => void,
): Promise<unknown> {
  if (!raw || typeof raw !== 'object') return raw;
  const config = structuredClone(raw) as Record<string, unknown>;
  for (const path of SECRET_PATHS) {
    for (const [holder, where] of holders(config, path.slice(0, -1), [])) {
      const key = path[path.length - 1] as string;
      const file = holder[`${key}File`];
      if (file === undefined) continue;
      const at = [...where, `${key}File`].join('.');
      if (typeof file !== 'string' || !file) throw new ConfigError(`${source}: ${at}: expected a file path`);
      if (holder[key] !== undefined)
        throw new ConfigError(`${source}: ${where.join('.')}: give ${key} or ${key}File, not both`);
      const value = await readSecretFile(file, `${source}: ${at}:`, PUBLIC.has(key) ? () => {} : warn);
      // The `…File` key gives way to the secret it names, so the config's own schema checks it.
      Reflect.deleteProperty(holder, `${key}File`);
      holder[key] = value;
    }
  }
  return config;
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
