// The secrets the audit needs, fetched by middy and cached across warm invocations: the DB secret
// and any per-store secrets. Shared by the audit and fan-out functions.
import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';
import type { DbUrl } from '../cloudstack/db-url.js';
import { dbSecretId, dbUrlFromSecret, functionEnvironment, storeSecretIds } from './environment.js';

/** Secrets are cached across warm invocations; a rotation is picked up within this time. */
const SECRETS_CACHE_MS = functionEnvironment(process.env).SECRETS_CACHE_MS ?? 15 * 60_000;
const storeSecrets = Object.entries(storeSecretIds(process.env));
/** Middy sanitises fetch keys, so the store secrets go under plain indexed names. */
const storeSecretKey = (i: number) => `store${i}`;

export function auditSecrets(cacheKey: string) {
  return secretsManager({
    fetchData: {
      db: dbSecretId(process.env),
      ...Object.fromEntries(storeSecrets.map(([, id], i) => [storeSecretKey(i), id])),
    },
    setToContext: true,
    cacheKey,
    cacheExpiry: SECRETS_CACHE_MS,
    disablePrefetch: true,
  });
}

/** What the middleware put on the context: the DB URL and the store secrets by store. */
export function fetchedSecrets(context: Context): { db: DbUrl; stores: Record<string, unknown> } {
  const fetched = context as Context & Record<string, unknown>;
  return {
    db: dbUrlFromSecret(fetched.db),
    stores: Object.fromEntries(storeSecrets.map(([store], i) => [store, fetched[storeSecretKey(i)]])),
  };
}
