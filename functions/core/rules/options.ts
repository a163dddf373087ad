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

/** The shape of a rule's own options (`Rule.options`): zod schemas by option name. */
export type OptionsShape = z.core.$ZodShape;

/**
 * One rule's options as the config holds them and the engine hands them to it, typed from its own
 * schema: the common ones, `remediate`, and its own, checked against that schema when the config
 * was parsed.
 */
export type RuleOptions<Shape extends OptionsShape = OptionsShape> = z.infer<
  z.ZodObject<typeof COMMON_RULE_OPTIONS & typeof REMEDIATION_OPTIONS>
> &
  ([keyof Shape] extends [never] ? unknown : z.infer<z.ZodObject<Shape>>);

/** The shape of a rule's own options, read off the rule (none when it takes none). */
export type ShapeOf<R> = R extends { options?: infer S }
  ? S extends OptionsShape
    ? S
    : NoOptions
  : NoOptions;
/** The options of a rule that takes none of its own. */
export type NoOptions = Record<never, never>;
