import { defineRule } from './rule.js';
import { storeRef } from '../model.js';
import { cmd } from '../shell.js';
import type { RuleFinding } from '../model.js';

const STEPS: Record<string, string[]> = {
  unreachable: [
    'Check that the store answers from where the auditor runs (network, security groups, DNS, TLS).',
    "Check the store's health (its console or admin CLI).",
  ],
  auth_failed: [
    "Check the store's admin keys in object_store_details (or the override in the auditor's config): they may have been rotated.",
    'On Ceph the admin user needs caps such as buckets=*; users=*; usage=read; metadata=read.',
  ],
  partial: [
    "The store answered part of the audit only (throttling, 5xx, a listing cut short, or a bucket it would not confirm). Re-run the audit; if it persists, check the store's load and logs.",
  ],
};

export const storeUnverified = defineRule({
  id: 'store-unverified',
  defaultSeverity: 'high',
  summary:
    'A store could not be fully audited (unreachable, auth failed, throttled, partial listing): nothing is concluded about its buckets.',
  when: 'a store could not be fully audited (unreachable, auth failed, throttled, listing cut short, an absence it would not confirm)',
  whatToDo:
    'fix reachability or the admin keys, then re-run; no bucket of that store is reported missing or unmanaged',
  reads: "each store's scan: its listing, HeadBucket and attribute reads",
  wholeStore: true,
  needs: 'db',
  coverage: () => 'verified',
  evaluate(view) {
    const findings: RuleFinding[] = [];
    const status = view.scan.internalError ? 'internal_error' : view.scan.status;
    if (status === 'verified' || status === 'skipped') return findings;
    findings.push({
      store: storeRef(view.store),
      bucket: null,
      dbBucket: null,
      message: `Store ${view.store.name} could not be fully audited (${status}): ${view.scan.error ?? 'no detail'}. No bucket of it is reported missing or unmanaged.`,
      evidence: {
        status,
        error: view.scan.error ?? null,
        at: view.scan.finishedAt,
        requests: view.scan.requests,
      },
      remediation: {
        summary: 'Make the store reachable to the auditor with working admin keys, then re-run the audit.',
        steps: [
          ...(STEPS[status] ?? []),
          `Re-run: ${cmd`csdrift audit --store=${view.store.uuid}`}`,
          `Verify: the new report's coverage shows ${view.store.name} verified.`,
        ],
      },
    });
    return findings;
  },
});
