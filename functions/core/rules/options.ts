// The options rules take in the config (`rules.<rule>`): what every rule takes, what the rules with
// an automated remediation add, and what the size rules share. The config's schema is built from
// these and each rule's own options (core/config.ts); the rules never import the config.
import * as z from 'zod';
import { SEVERITIES } from '../model.js';

/** What every rule takes; each rule adds its own options (Rule.options), and nothing else is accepted. */
export const COMMON_RULE_OPTIONS = {
  enabled: z.boolean().optional(),
  severity: z.enum(SEVERITIES).optional(),
  /** Consecutive runs a finding must be seen before it is reported as new (for flapping stores). */
  confirmRuns: z.number().int().min(1).max(30).optional(),
};

/** What a rule with a remediation adds: allow `csdrift remediate --apply` for its findings. Off unless said. */
export const REMEDIATION_OPTIONS = { remediate: z.boolean().optional() };

/** The options of the rules that compare sizes: drift only beyond both this share and this many MiB. */
export const TOLERANCE_OPTIONS = {
  tolerancePercent: z.number().min(0).max(1000).optional(),
  toleranceMiB: z.number().min(0).optional(),
};

/**
 * One rule's options as the engine hands them to it: the common ones, and its own, already checked
 * against its schema when the config was parsed.
 */
export type RuleOptions = z.infer<z.ZodObject<typeof COMMON_RULE_OPTIONS & typeof REMEDIATION_OPTIONS>> &
  Record<string, unknown>;
