import * as z from 'zod';
import { storeRef } from '../model.js';
import type { RuleFinding, StorePrincipal, StoreRecord } from '../model.js';
import { defineRule } from './rule.js';
import { keyHint, principalsCoverage, principalsOf } from './store-users.js';

// Who besides CloudStack can delete or reconfigure any bucket: the write-up of the seed problem
// (apache/cloudstack#10410) names restricting direct admin access to the store as one of its remedies.
export const storeAdminBypass = defineRule({
  id: 'store-admin-bypass',
  defaultSeverity: 'medium',
  summary:
    "A principal other than CloudStack's own keys can delete or reconfigure any bucket of the store, behind CloudStack's back.",
  when: 'a store user or group other than the one holding the keys CloudStack uses for that store can delete or reconfigure every bucket: Ceph caps `buckets`, `users` or `metadata` with write, or the system or admin flag; MinIO policies (`consoleAdmin`, `readwrite` included) allowing `s3:DeleteBucket`, bucket policy, versioning, object lock or encryption changes on every bucket, or admin actions that create users, keys or policies. One finding per principal; `rules.store-admin-bypass.allowed` lists principals that may',
  whatToDo:
    'take the rights away (commands in the finding) or list the principal in `rules.store-admin-bypass.allowed`; keep the store audit log on so csdrift watch can name who acted',
  reads:
    "store: users with their caps and flags (RGW admin), users, groups and canned policies (MinIO admin API); CloudStack's own admin key from `object_store_details`",
  needs: 'listed',
  storeLevel: true,
  wholeStore: true,
  options: {
    /** Store users and MinIO groups that may hold such rights (a backup tool, the operators' group). */
    allowed: z.array(z.string().min(1)).optional(),
  },
  scan: { principals: true },
  coverage: (view) => principalsCoverage(view),
  evaluate(view, ctx) {
    const principals = principalsOf(view);
    if (!principals) return [];
    const allowed = new Set(ctx.options.allowed ?? []);
    return principals.principals
      .filter((p) => p.rights.length && !p.cloudstack && !allowed.has(p.name) && canAct(p))
      .map((p) => finding(view.store, p));
  },
});

/** Someone can use it: an enabled user with an enabled key, or an enabled group with members. */
function canAct(p: StorePrincipal): boolean {
  if (!p.enabled) return false;
  return p.kind === 'group' ? Boolean(p.members?.length) : p.keys.some((k) => k.enabled);
}

function finding(store: StoreRecord, p: StorePrincipal): RuleFinding {
  const what = p.kind === 'group' ? `MinIO group ${p.name}` : `${store.provider} user ${p.name}`;
  const keys = p.keys.filter((k) => k.enabled).map(keyHint);
  const held =
    p.kind === 'group'
      ? `its members: ${(p.members ?? []).join(', ')}`
      : `${keys.length} enabled key(s): ${keys.join(', ')}`;
  return {
    store: storeRef(store),
    bucket: null,
    dbBucket: null,
    attribute: `principal:${p.name}`,
    message: `${what} on store ${store.name} can delete or reconfigure any bucket behind CloudStack's back (${p.rights.join(', ')}); ${held}.`,
    evidence: {
      principal: p.name,
      kind: p.kind,
      rights: p.rights,
      ...(p.policies?.length ? { policies: p.policies } : {}),
      ...(p.kind === 'group' ? { members: p.members ?? [] } : { enabledKeys: keys }),
      ...(p.memberOf?.length ? { memberOf: p.memberOf } : {}),
    },
    remediation: {
      summary:
        "Anyone holding these rights can delete a bucket in the store while CloudStack keeps its row (the seed case of apache/cloudstack#10410), or change what CloudStack set on it. Only CloudStack's own keys should.",
      steps:
        store.provider === 'MinIO'
          ? [
              p.kind === 'group'
                ? `Detach the policies from the group: \`mc admin policy detach ALIAS ${p.policies?.join(' ') || 'POLICY'} --group ${p.name}\`, and give its members policies scoped to the buckets they run.`
                : `Detach the policies from the user: \`mc admin policy detach ALIAS ${p.policies?.join(' ') || 'POLICY'} --user ${p.name}\`, and attach one scoped to the buckets it needs.`,
              `If it should keep them (a backup tool, the operators' own login), list it in the config: \`rules: { store-admin-bypass: { allowed: [${p.name}] } }\`.`,
              "Keep MinIO's audit log going to csdrift watch (`audit_webhook`), so that a delete behind CloudStack's back names who did it.",
              `Verify: \`mc admin user info ALIAS ${p.name}\` (or \`mc admin group info\`) shows the new policies, and the next audit no longer reports it.`,
            ]
          : [
              `Take the caps away: \`radosgw-admin caps rm --uid=${p.name} --caps="buckets=*;users=*;metadata=*"\`, and clear the flags: \`radosgw-admin user modify --uid=${p.name} --system=false --admin=false\`.`,
              `If it should keep them (a multisite system user, a backup tool), list it in the config: \`rules: { store-admin-bypass: { allowed: [${p.name}] } }\`.`,
              "Keep the RGW ops log on (`rgw_enable_ops_log`) and read by csdrift watch, so that a delete behind CloudStack's back names who did it.",
              `Verify: \`radosgw-admin user info --uid=${p.name}\` shows no such caps or flags, and the next audit no longer reports it.`,
            ],
    },
  };
}
