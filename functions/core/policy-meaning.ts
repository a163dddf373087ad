// What a bucket policy means for anonymous callers, so that two policies are compared by effect
// rather than by text (whitespace, statement order, `"*"` vs `{"AWS": "*"}`, action lists vs wildcards).
import { StoreError } from './errors.js';
import type { AnonymousAccess, PolicyMeaning } from './model.js';

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

export class PolicyUnreadableError extends StoreError {
  override name = 'PolicyUnreadableError';
}

const NONE: PolicyMeaning = { anonymousRead: 'no', anonymousList: 'no', anonymousWrite: 'no', statements: 0 };

/** The meaning of no policy at all: private. */
export function noPolicy(): PolicyMeaning {
  return { ...NONE };
}

/** Reads a policy document; throws PolicyUnreadableError when it is not one. */
export function policyMeaning(document: string, bucket: string): PolicyMeaning {
  let parsed: { Statement?: unknown };
  try {
    parsed = JSON.parse(document) as { Statement?: unknown };
  } catch {
    throw new PolicyUnreadableError('the bucket policy is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new PolicyUnreadableError('the bucket policy is not a JSON object');
  const statements = toArray(parsed.Statement) as Statement[];
  const access = (action: string, resource: string): AnonymousAccess => {
    const applies = statements.filter(
      (s) => isAnonymous(s) && matchesAction(s, action) && matchesResource(s.Resource, resource),
    );
    const effect = (s: Statement) => String(s.Effect ?? '').toLowerCase();
    // An unconditional Deny wins over any Allow.
    if (applies.some((s) => effect(s) === 'deny' && !hasCondition(s))) return 'no';
    const allows = applies.filter((s) => effect(s) === 'allow');
    if (allows.some((s) => !hasCondition(s))) return 'yes';
    return allows.length ? 'conditional' : 'no';
  };
  const objects = `arn:aws:s3:::${bucket}/anything`;
  const whole = `arn:aws:s3:::${bucket}`;
  const worst = (...levels: AnonymousAccess[]): AnonymousAccess =>
    levels.includes('yes') ? 'yes' : levels.includes('conditional') ? 'conditional' : 'no';
  return {
    anonymousRead: access('s3:GetObject', objects),
    anonymousList: access('s3:ListBucket', whole),
    anonymousWrite: worst(access('s3:PutObject', objects), access('s3:DeleteObject', objects)),
    statements: statements.length,
  };
}

/** In CloudStack's words: 'public' is anonymous read and list, 'private' is no anonymous access. */
export function describePolicy(meaning: PolicyMeaning): string {
  const { anonymousRead: read, anonymousList: list, anonymousWrite: write } = meaning;
  if (write !== 'no') return `anonymous write (${write === 'yes' ? 'unconditional' : 'under a condition'})`;
  if (read === 'yes' && list === 'yes') return 'public';
  if (read === 'no' && list === 'no') return 'private';
  const parts = [
    read !== 'no' ? `anonymous read${read === 'conditional' ? ' under a condition' : ''}` : '',
    list !== 'no' ? `anonymous list${list === 'conditional' ? ' under a condition' : ''}` : '',
  ].filter(Boolean);
  return `partly public (${parts.join(', ')})`;
}

function toArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function isAnonymous(s: Statement): boolean {
  if (s.NotPrincipal !== undefined) return true; // everyone but someone: anonymous included
  const p = s.Principal;
  if (p === '*') return true;
  if (typeof p === 'object' && p !== null) {
    return toArray((p as Record<string, unknown>).AWS).some((v) => v === '*');
  }
  return false;
}

function hasCondition(s: Statement): boolean {
  return typeof s.Condition === 'object' && s.Condition !== null && Object.keys(s.Condition).length > 0;
}

function wildcard(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.split('?').map(escapeRe).join('.'))
      .join('.*')}$`,
    'i',
  );
  return re.test(value);
}

function escapeRe(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

function matchesAction(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !toArray(s.NotAction).some((a) => wildcard(String(a), action));
  return toArray(s.Action).some((a) => wildcard(String(a), action));
}

function matchesResource(resource: unknown, arn: string): boolean {
  return toArray(resource).some((r) => wildcard(String(r), arn));
}

/** Bucket actions that delete or reconfigure a bucket: what only CloudStack should do to its buckets. */
export const BUCKET_CHANGING_ACTIONS = [
  's3:DeleteBucket',
  's3:ForceDeleteBucket',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketVersioning',
  's3:PutBucketObjectLockConfiguration',
  's3:PutEncryptionConfiguration',
] as const;

/**
 * MinIO admin actions that give any bucket away: making users, keys and policies (and with them any
 * right), or changing a bucket's quota.
 */
export const ESCALATING_ADMIN_ACTIONS = [
  'admin:CreateUser',
  'admin:CreateServiceAccount',
  'admin:CreatePolicy',
  'admin:AttachUserOrGroupPolicy',
  'admin:SetBucketQuotaAdminAction',
] as const;

/** A bucket no policy names: what a right "on every bucket" must reach. */
const ANY_BUCKET = 'arn:aws:s3:::csdrift-any-bucket-0f3a';

/**
 * What an identity policy (a MinIO canned policy) lets its holder do to every bucket: each bucket-changing
 * or escalating action it allows on a bucket it does not name, an unconditional Deny taken off, and
 * `(under a condition)` after one only a conditional Allow grants. Admin statements carry no Resource:
 * they apply to the whole store. Throws PolicyUnreadableError when the text is not a policy.
 */
export function bucketWideRights(document: unknown): string[] {
  let parsed: unknown = document;
  if (typeof document === 'string') {
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new PolicyUnreadableError('the policy is not valid JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new PolicyUnreadableError('the policy is not a JSON object');
  const statements = toArray((parsed as { Statement?: unknown }).Statement) as Statement[];
  const effect = (s: Statement) => String(s.Effect ?? '').toLowerCase();
  const reaches = (s: Statement, action: string) =>
    matchesAction(s, action) && (s.Resource === undefined || matchesResource(s.Resource, ANY_BUCKET));
  const rights: string[] = [];
  for (const action of [...BUCKET_CHANGING_ACTIONS, ...ESCALATING_ADMIN_ACTIONS]) {
    const applies = statements.filter((s) => reaches(s, action));
    if (applies.some((s) => effect(s) === 'deny' && !hasCondition(s))) continue;
    const allows = applies.filter((s) => effect(s) === 'allow');
    if (allows.some((s) => !hasCondition(s))) rights.push(action);
    else if (allows.length) rights.push(`${action} (under a condition)`);
  }
  return rights;
}
