import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { AuditConfig } from '../core/config.js';
import { parseAuditConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { SecretReader } from '../secrets/resolve-secrets.js';
import { resolveSecrets } from '../secrets/resolve-secrets.js';

const MAX_CONFIG_BYTES = 4 * 1024 ** 2;

/** Where the database is when not in the config file: a flag or the environment, as a reference. */
export interface DbSource {
  db: { url: string } | { urlFile: string };
  /** What to call it in errors: `--db-file`, `CSDRIFT_DB_URL_FILE`. */
  label: string;
}

/**
 * A JSON or YAML config file (no file means the defaults), its files and secrets resolved in one
 * step (secrets/resolve-secrets.ts), then validated.
 */
export async function loadConfigFile(
  path: string | undefined,
  warn: (line: string) => void = () => {},
  options: { dbSource?: DbSource; reader?: SecretReader } = {},
): Promise<AuditConfig> {
  // An empty file is the defaults, as no file is.
  const raw = (path ? parseConfigText(await readConfigText(path), path) : undefined) ?? {};
  const source = path ?? 'config';
  const { dbSource } = options;
  if (dbSource && raw && typeof raw === 'object') (raw as Record<string, unknown>).db = dbSource.db;
  const labels = dbSource ? { 'db.urlFile': dbSource.label } : undefined;
  const resolved = await resolveSecrets(raw, {
    source,
    warn,
    ...(options.reader ? { reader: options.reader } : {}),
    ...(labels ? { labels } : {}),
  });
  return parseAuditConfig(resolved, source);
}

async function readConfigText(path: string): Promise<string> {
  let text: string;
  try {
    // A config is a few KiB; a huge file is a mistake, and parsing it would take gigabytes.
    if ((await stat(path)).size > MAX_CONFIG_BYTES)
      throw new ConfigError(
        `--config ${path}: larger than ${MAX_CONFIG_BYTES / 1024 ** 2} MiB; not a config file`,
      );
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  return text;
}

/**
 * The file's value, or one error naming the file, the line and the key, never the text there: a
 * config holds secrets, and a parser's message quotes what it choked on (`*secret…`, `|secret…`).
 */
export function parseConfigText(text: string, path: string): unknown {
  const json = extname(path).toLowerCase() === '.json';
  if (json) {
    try {
      return JSON.parse(text);
    } catch {
      // Not the parser's message, which quotes the text around the mistake.
      throw new ConfigError(`${path}: not valid JSON${whereYamlStumbles(text)}`);
    }
  }
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first)
    throw new ConfigError(`${path}: not valid YAML${at(text, first.linePos?.[0]?.line)} (${first.code})`);
  try {
    return doc.toJS();
  } catch {
    throw new ConfigError(`${path}: not valid YAML: an alias (*name) that no anchor defines`);
  }
}

/** Where a JSON file goes wrong, found by YAML's parser (JSON is YAML), or nothing when it cannot say. */
function whereYamlStumbles(text: string): string {
  const line = parseDocument(text).errors[0]?.linePos?.[0]?.line;
  return line ? at(text, line) : '';
}

/** ` at line N (key "k")`: the line number and the key on it, never the value. */
function at(text: string, line: number | undefined): string {
  if (!line) return '';
  const key = /^\s*(?:-\s*)?["']?([A-Za-z0-9_.-]+)["']?\s*:/.exec(text.split(/\r?\n/)[line - 1] ?? '')?.[1];
  return ` at line ${line}${key ? ` (key "${key}")` : ''}`;
}
