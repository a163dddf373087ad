// MinIO's users, their access keys and its groups through the admin API, each right read from the
// canned policies attached to them:
// - `list-users`, encrypted with the admin's secret key (madmin-crypto.ts): every user, its status,
//   policies and groups; a user's access key is its name;
// - `list-access-keys-bulk?listType=svcacc-only&all=true`, encrypted: every service account by parent
//   user, counted among that user's keys (a server older than the call says so in `unread`);
// - `groups` and `group?group=`, plain JSON: each group's status, members and policies;
// - `list-canned-policies`, plain JSON: every policy document, read for its bucket-wide rights.
// Secret keys in these answers are never copied out of them: only names, statuses and access key ids
// (as digests) reach the scan.
import pLimit from 'p-limit';
import * as z from 'zod';
import type { Observed, StorePrincipal, StorePrincipals, StoreTarget } from '../core/model.js';
import { PolicyUnreadableError, bucketWideRights } from '../core/policy-meaning.js';
import type { AdminApiClient } from './admin-api.js';
import { httpStatusOf } from './classify.js';
import type { TransportOptions } from './http.js';
import { keyRef } from './key-ref.js';
import { confirmAbsent, principalsFailure, unlisted } from './principals.js';

/** madmin-go UserInfo (user-commands.go), keyed by access key. */
const listUsersAnswer = z.record(
  z.string(),
  z.looseObject({
    policyName: z.string().optional(),
    status: z.string(),
    memberOf: z.array(z.string()).nullish(),
  }),
);
/** madmin-go ListAccessKeysResp by parent user (user-commands.go ListAccessKeysBulk). */
const accessKeysAnswer = z.record(
  z.string(),
  z.looseObject({
    serviceAccounts: z
      .array(z.looseObject({ accessKey: z.string(), accountStatus: z.string().optional() }))
      .nullish(),
  }),
);
const groupsAnswer = z.array(z.string()).nullable();
/** madmin-go GroupDesc (group-commands.go). */
const groupAnswer = z.looseObject({
  name: z.string().optional(),
  status: z.string().optional(),
  members: z.array(z.string()).nullish(),
  policy: z.string().optional(),
});

/** Users and groups say `enabled`/`disabled`; service accounts `on`/`off` (madmin-go AccountOn). */
const enabledStatus = (status: string | undefined) =>
  ['enabled', 'on'].includes((status ?? 'enabled').toLowerCase());
const policyNames = (names: string | undefined) =>
  (names ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);

export async function readMinioPrincipals(
  admin: AdminApiClient,
  store: StoreTarget,
  options: TransportOptions,
  /** The canned policies, read once per scan for this and the owner rule. */
  cannedPolicies: () => Promise<Record<string, unknown>>,
  expectedUsers: Iterable<string[]> = [],
): Promise<Observed<StorePrincipals>> {
  try {
    const unread: string[] = [];
    const [users, serviceAccounts, policies, groupNames] = await Promise.all([
      admin.getEncrypted('list-users', {}, listUsersAnswer),
      readServiceAccounts(admin, unread),
      cannedPolicies(),
      admin.get('groups', {}, groupsAnswer),
    ]);
    const rightsOf = policyRights(policies, unread);
    const limit = pLimit(options.concurrency);
    await Promise.all(
      unlisted(expectedUsers, (name) => name in users).map((name) =>
        limit(() =>
          confirmAbsent(
            () => admin.get('user-info', { accessKey: name }, z.looseObject({})),
            `list-users left out user ${name}, which user-info found: the user listing is not trusted`,
          ),
        ),
      ),
    );
    const groups = await Promise.all(
      (groupNames ?? []).map((name) =>
        limit(async (): Promise<StorePrincipal> => {
          const g = await admin.get('group', { group: name }, groupAnswer);
          const attached = policyNames(g.policy);
          return {
            kind: 'group',
            name,
            enabled: enabledStatus(g.status),
            keys: [],
            rights: rightsOf(attached),
            policies: attached,
            members: g.members ?? [],
          };
        }),
      ),
    );
    const adminKey = store.credentials?.accessKey;
    const principals: StorePrincipal[] = Object.entries(users).map(([name, u]) => {
      const enabled = enabledStatus(u.status);
      const accounts = serviceAccounts.get(name) ?? [];
      const attached = policyNames(u.policyName);
      const cloudstack = name === adminKey || accounts.some((a) => a.accessKey === adminKey);
      return {
        kind: 'user',
        name,
        enabled,
        keys: [
          keyRef(name, enabled),
          ...accounts.map((a) => keyRef(a.accessKey, enabled && enabledStatus(a.accountStatus))),
        ],
        rights: rightsOf(attached),
        policies: attached,
        ...(u.memberOf?.length ? { memberOf: u.memberOf } : {}),
        ...(cloudstack ? { cloudstack: true } : {}),
      };
    });
    return { value: { principals: [...principals, ...groups], ...(unread.length ? { unread } : {}) } };
  } catch (err) {
    return principalsFailure(
      err,
      'the admin user needs admin:ListUsers, admin:ListGroups, admin:GetGroup, admin:ListUserPolicies and admin:ListServiceAccounts',
    );
  }
}

type ServiceAccount = { accessKey: string; accountStatus?: string | undefined };

/** Every service account by parent user; a server without the bulk call leaves them unread, never none. */
async function readServiceAccounts(
  admin: AdminApiClient,
  unread: string[],
): Promise<Map<string, ServiceAccount[]>> {
  try {
    const answer = await admin.getEncrypted(
      'list-access-keys-bulk',
      { listType: 'svcacc-only', all: 'true' },
      accessKeysAnswer,
    );
    return new Map(
      Object.entries(answer).map(([user, keys]) => [
        user,
        (keys.serviceAccounts ?? []).map(({ accessKey, accountStatus }) => ({ accessKey, accountStatus })),
      ]),
    );
  } catch (err) {
    const status = httpStatusOf(err);
    if (status !== 400 && status !== 404 && status !== 501) throw err;
    unread.push(`service accounts (list-access-keys-bulk answered HTTP ${status}: a MinIO older than 2023)`);
    return new Map();
  }
}

/** Each attached policy's bucket-wide rights, merged; a policy that is missing or unreadable is named in `unread`. */
function policyRights(policies: Record<string, unknown>, unread: string[]): (names: string[]) => string[] {
  const cache = new Map<string, string[]>();
  const of = (name: string): string[] => {
    let rights = cache.get(name);
    if (rights) return rights;
    rights = [];
    if (!(name in policies)) unread.push(`policy ${name} (attached, but not among the canned policies)`);
    else
      try {
        rights = bucketWideRights(policies[name]);
      } catch (err) {
        if (!(err instanceof PolicyUnreadableError)) throw err;
        unread.push(`policy ${name} (${err.message})`);
      }
    cache.set(name, rights);
    return rights;
  };
  return (names) => [...new Set(names.flatMap(of))];
}
