// The secrets a function reads, fetched and cached by middy across warm invocations (a rotation is
// picked up within SECRETS_CACHE_MS), then handed to the config's one secrets step
// (secrets/resolve-secrets.ts) as a reader: the function resolves its config exactly as the CLI does.
import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors.js';
import type { SecretReader } from '../secrets/resolve-secrets.js';
import { functionEnvironment, functionSecretIds, functionSettings } from './environment.js';

/** Secrets are cached across warm invocations; a rotation is picked up within this time. */
const SECRETS_CACHE_MS = functionEnvironment(process.env).SECRETS_CACHE_MS ?? 15 * 60_000;
/** middy sanitises fetch keys, so the secrets go under plain indexed names. */
const keyOf = (i: number) => `secret${i}`;

/** The middleware that fetches these secrets onto the context before the function runs. */
export function functionSecrets(cacheKey: string, secretIds: readonly string[]) {
  return secretsManager({
    fetchData: Object.fromEntries(secretIds.map((id, i) => [keyOf(i), id])),
    setToContext: true,
    cacheKey,
    cacheExpiry: SECRETS_CACHE_MS,
    disablePrefetch: true,
  });
}

/** What the middleware put on the context, read as the secrets step reads Secrets Manager. */
export function prefetchedReader(context: Context, secretIds: readonly string[]): SecretReader {
  const fetched = context as Context & Record<string, unknown>;
  return {
    secret(secretId, where) {
      const i = secretIds.indexOf(secretId);
      if (i < 0) throw new ConfigError(`${where} ${secretId}: not among the secrets this function fetches`);
      return Promise.resolve(fetched[keyOf(i)]);
    },
  };
}

/**
 * The secrets of a function that reads CloudStack: those its config names (functionSecretIds), the
 * middleware that fetches them, and its settings resolved with them at each invocation.
 */
export function configSecrets(cacheKey: string) {
  const secretIds = functionSecretIds(process.env);
  return {
    middleware: functionSecrets(cacheKey, secretIds),
    settings: (context: Context) => functionSettings(process.env, prefetchedReader(context, secretIds)),
  };
}
