// MinIO: buckets and the S3 attributes through S3 (the root or admin user sees every bucket), quota,
// usage, users and canned policies through the MinIO admin API (`/minio/admin/v3`, SigV4-signed).
import pLimit from 'p-limit';
import * as z from 'zod';
import type { BucketAttributes, Observed, StoreAccounts } from '../core/model.js';
import { byName } from '../core/model.js';
import { storeUserNames } from '../core/store-naming.js';
import { AdminApiClient, AdminApiError } from './admin-api.js';
import type { InspectTarget, StoreAdapter } from './adapter.js';
import { describeError, httpStatusOf, storeFaultOrThrow } from './classify.js';
import { readMinioPrincipals } from './minio-principals.js';
import { S3_ATTRIBUTES } from './s3-attributes.js';
import { s3Connection } from './s3-generic.js';

export const minioAdapter: StoreAdapter = {
  capabilities: [...S3_ATTRIBUTES, 'owner', 'quota', 'usage'],
  notApplicable: {},
  connect(store, options, context) {
    const base = s3Connection(store, options, context);
    const admin = new AdminApiClient(store, base.handler, options, '/minio/admin/v3');
    let usage: ReturnType<typeof readUsage> | undefined;
    const usageOnce = () => (usage ??= readUsage(admin));
    let policies: Promise<Record<string, unknown>> | undefined;
    const policiesOnce = () => (policies ??= admin.get('list-canned-policies', {}, cannedPolicies));
    return {
      ...base,
      readPrincipals: () => readMinioPrincipals(admin, store, options, policiesOnce, context?.expectedUsers),
      // MinIO's data usage covers every bucket in one call: it sizes the listing (the data at stake
      // in a bucket CloudStack does not know) and serves the usage rule, read once for both.
      async listBuckets(onBucket) {
        const usage = await usageOnce();
        await base.listBuckets((b) => {
          const used = 'error' in usage ? undefined : usage.value[b.name];
          onBucket(used && 'value' in used ? { ...b, bytes: used.value.bytes } : b);
        });
      },
      async readAttributes(targets, wanted) {
        const limit = pLimit(options.concurrency);
        const [{ attributes }, usage, quotas, owners] = await Promise.all([
          base.readAttributes(targets, wanted),
          wanted.includes('usage') ? usageOnce() : undefined,
          wanted.includes('quota') ? readQuotas(admin, targets, limit) : undefined,
          wanted.includes('owner') ? readOwners(admin, targets, limit, policiesOnce) : undefined,
        ]);
        for (const t of targets) {
          const entry: BucketAttributes = (attributes[t.name] ??= {});
          if (usage)
            entry.usage = 'error' in usage ? usage : (usage.value[t.name] ?? notScannedYet(usage.at));
          if (quotas) entry.quota = quotas.get(t.name) as Observed<number | null>;
          if (owners) entry.owner = owners.users.get(t.accountUuid ?? '') ?? { error: 'no owning account' };
        }
        return { attributes, ...(owners ? { accounts: owners.accounts } : {}) };
      },
    };
  },
};

/**
 * The admin API's answers as MinIO's madmin package writes them (DataUsageInfo, BucketQuota, UserInfo,
 * the canned policy map): extra fields are allowed, missing or mistyped ones make the answer no answer.
 */
const count = z.number().nonnegative();
const dataUsageInfo = z.looseObject({
  lastUpdate: z.string().optional(),
  bucketsUsageInfo: z.record(z.string(), z.looseObject({ size: count, objectsCount: count.optional() })),
});
const bucketQuota = z.looseObject({ quota: count.optional(), size: count.optional() });
const userInfoAnswer = z.looseObject({ policyName: z.string().optional(), status: z.string().optional() });
const cannedPolicies = z.record(z.string(), z.unknown());

function failure(err: unknown): { error: string } {
  storeFaultOrThrow(err);
  return { error: describeError(err) };
}

type UsageByBucket = Record<string, Observed<{ bytes: number; objects?: number; at?: string }>>;

/** One call for the whole store. MinIO computes it in a background scan, so it lags. */
async function readUsage(
  admin: AdminApiClient,
): Promise<{ value: UsageByBucket; at?: string } | { error: string }> {
  try {
    const body = await admin.get('datausageinfo', {}, dataUsageInfo);
    const at = body.lastUpdate;
    const value: UsageByBucket = byName();
    for (const [name, u] of Object.entries(body.bucketsUsageInfo)) {
      value[name] = {
        value: {
          bytes: u.size,
          ...(u.objectsCount !== undefined ? { objects: u.objectsCount } : {}),
          ...(at ? { at } : {}),
        },
      };
    }
    return { value, ...(at ? { at } : {}) };
  } catch (err) {
    return failure(err);
  }
}

function notScannedYet(at?: string): { error: string } {
  return { error: `not in MinIO's data usage yet (its last scan: ${at ?? 'unknown'})` };
}

/** One call per bucket: MinIO has no call for every bucket's quota at once. */
async function readQuotas(
  admin: AdminApiClient,
  targets: InspectTarget[],
  limit: ReturnType<typeof pLimit>,
): Promise<Map<string, Observed<number | null>>> {
  const quotas = new Map<string, Observed<number | null>>();
  await Promise.all(
    targets.map((t) =>
      limit(async () => {
        try {
          const q = await admin.get('get-bucket-quota', { bucket: t.name }, bucketQuota);
          const bytes = q.size ?? q.quota ?? 0;
          quotas.set(t.name, { value: bytes > 0 ? bytes : null });
        } catch (err) {
          const noQuota =
            err instanceof AdminApiError && httpStatusOf(err) === 404 && /Quota/i.test(err.storeCode);
          quotas.set(t.name, noQuota ? { value: null } : failure(err));
        }
      }),
    ),
  );
  return quotas;
}

/**
 * Every canned policy in one call, and each owning account's user once: `acs-<account uuid>`, or
 * `acs-<account name>` for accounts made before January 2024.
 */
async function readOwners(
  admin: AdminApiClient,
  targets: InspectTarget[],
  limit: ReturnType<typeof pLimit>,
  policiesOnce: () => Promise<Record<string, unknown>>,
): Promise<{
  accounts: Observed<StoreAccounts>;
  users: Map<string, NonNullable<BucketAttributes['owner']>>;
}> {
  const users = new Map<string, NonNullable<BucketAttributes['owner']>>();
  let accounts: Observed<StoreAccounts>;
  try {
    const body = await policiesOnce();
    accounts = {
      value: {
        policies: Object.fromEntries(Object.entries(body).map(([n, doc]) => [n, grantedBuckets(doc)])),
      },
    };
  } catch (err) {
    accounts = failure(err);
  }
  const byAccount = new Map(targets.filter((t) => t.accountUuid).map((t) => [t.accountUuid as string, t]));
  await Promise.all(
    [...byAccount.values()].map((t) =>
      limit(async () => {
        if ('error' in accounts) return users.set(t.accountUuid as string, accounts);
        users.set(t.accountUuid as string, await userInfo(admin, t));
      }),
    ),
  );
  return { accounts, users };
}

async function userInfo(
  admin: AdminApiClient,
  t: InspectTarget,
): Promise<NonNullable<BucketAttributes['owner']>> {
  const names = storeUserNames('MinIO', { accountUuid: t.accountUuid ?? '', accountName: t.accountName });
  for (const name of names) {
    try {
      const info = await admin.get('user-info', { accessKey: name }, userInfoAnswer);
      const policies = (info.policyName ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      return { value: { user: { name, exists: true, policies } } };
    } catch (err) {
      if (httpStatusOf(err) !== 404) return failure(err);
    }
  }
  return { value: { user: { name: names[0] as string, exists: false, policies: [] } } };
}

/** The buckets a policy document grants object access to (`arn:aws:s3:::NAME/*` or the bucket itself). */
export function grantedBuckets(doc: unknown): string[] {
  const parsed = typeof doc === 'string' ? safeJson(doc) : doc;
  const statements = (parsed as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const names = new Set<string>();
  for (const s of list as { Effect?: string; Resource?: unknown }[]) {
    if (String(s?.Effect).toLowerCase() !== 'allow') continue;
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const r of resources) {
      const m = /^arn:aws:s3:::([^/*]+)(\/.*)?$/.exec(String(r));
      if (m?.[1]) names.add(m[1]);
    }
  }
  return [...names].sort();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
