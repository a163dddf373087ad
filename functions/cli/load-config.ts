import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { AuditConfig } from '../core/config.js';
import { parseAuditConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

/** A JSON or YAML config file, validated; no file means the defaults. */
export async function loadConfigFile(path: string | undefined): Promise<AuditConfig> {
  if (!path) return parseAuditConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const kind = extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML';
    throw new ConfigError(`${path}: not valid ${kind}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseAuditConfig(raw, path);
}
