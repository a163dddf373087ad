// What the audit function accepts: the schedule's event, or the manual payload (docs/contract.md,
// "Lambda"). Anything else is refused before any work, with the path of what is wrong.
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { RULE_IDS } from '../core/rules/index.js';
import { firstIssue, parseAt } from '../core/validation.js';
import { bucketNameProblem } from '../core/bucket-name.js';

export const scheduleEventSchema = z.looseObject({
  source: z.enum(['aws.scheduler', 'aws.events']),
  'detail-type': z.literal('Scheduled Event'),
});

export const manualPayloadSchema = z.strictObject({
  stores: z.array(z.string().min(1)).optional(),
  rules: z.array(z.enum(RULE_IDS)).optional(),
  buckets: z
    .array(
      z.string().superRefine((name, ctx) => {
        const problem = bucketNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .optional(),
  dryRun: z.boolean().optional(),
  notify: z.boolean().optional(),
});

export type AuditInvocation =
  | { trigger: 'schedule'; stores: string[]; rules: []; buckets: []; dryRun: false; notify: true }
  | {
      trigger: 'manual';
      stores: string[];
      rules: (typeof RULE_IDS)[number][];
      buckets: string[];
      dryRun: boolean;
      notify: boolean;
    };

const scheduleInvocation = scheduleEventSchema.transform((): AuditInvocation => ({
  trigger: 'schedule',
  stores: [],
  rules: [],
  buckets: [],
  dryRun: false,
  notify: true,
}));

const manualInvocation = manualPayloadSchema.transform((p): AuditInvocation => ({
  trigger: 'manual',
  stores: p.stores ?? [],
  rules: p.rules ?? [],
  buckets: p.buckets ?? [],
  dryRun: p.dryRun ?? false,
  notify: p.notify ?? true,
}));

/** What a refused invocation should have been. */
export const INVOCATION_EXPECTED =
  'a schedule event, or { stores?: [id|name], rules?: [rule], buckets?: [name], dryRun?: boolean, notify?: boolean }';

/**
 * The audit function's payload as an AuditInvocation: an event with a `source` must be the
 * schedule's; anything else is the manual payload (none at all: a manual run of everything).
 */
export const auditInvocationSchema = z.unknown().transform((event, ctx): AuditInvocation => {
  if (typeof event === 'object' && event !== null && 'source' in event) {
    const result = scheduleInvocation.safeParse(event);
    if (result.success) return result.data;
    ctx.addIssue({ code: 'custom', message: `not a schedule event (${firstIssue(result.error)})` });
    return z.NEVER;
  }
  const result = manualInvocation.safeParse(event ?? {});
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

/** The invocation a fan-out step carries, checked the same way (its own steps parse it first). */
export function parseInvocation(event: unknown): AuditInvocation {
  return parseAt(
    auditInvocationSchema,
    event,
    'payload',
    (m, o) => new InvalidInputError(`${m}; expected ${INVOCATION_EXPECTED}`, o),
  );
}
