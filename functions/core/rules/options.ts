// The options rules take in the config (`rules.<rule>`): what every rule takes, what the rules with
// an automated remediation add, and the type the rules read. The config's schema is built from
// these and each rule's own options (core/config.ts); the rules never import the config.
import * as z from 'zod';
import type { RuleId } from '../model.js';
import { SEVERITIES } from '../model.js';

/** What every rule takes; each rule adds its own options (Rule.options), and nothing else is accepted. */
export const COMMON_RULE_OPTIONS = {
  enabled: z.boolean().optional(),
  severity: z.enum(SEVERITIES).optional(),
  /** Consecutive runs a finding must be seen before it is reported as new (for flapping stores). */
  confirmRuns: z.number().int().min(1).max(30).optional(),
};

/** The options of the rules that compare sizes: drift only beyond both this share and this many MiB. */
export const TOLERANCE_OPTIONS = {
  tolerancePercent: z.number().min(0).max(1000).optional(),
  toleranceMiB: z.number().min(0).optional(),
};

/** Rules with an automated action: the seed case, and the attributes updateBucket re-applies. They take `remediate`. */
export const REMEDIABLE: readonly RuleId[] = [
  'bucket-missing-in-store',
  'bucket-versioning-mismatch',
  'bucket-encryption-mismatch',
  'bucket-policy-mismatch',
  'bucket-quota-mismatch',
];

/** Every option any rule takes: the type of one rule's options as the rules read them. */
export const anyRuleOptions = z.object({
  ...COMMON_RULE_OPTIONS,
  remediate: z.boolean().optional(),
  ...TOLERANCE_OPTIONS,
});
export type RuleOptions = z.infer<typeof anyRuleOptions>;

/** `rules:` of the config as the rules read it. */
export type RulesConfig = Partial<Record<RuleId, RuleOptions>>;
