// What the audit function accepts: the schedule's event, or the manual payload (docs/contract.md,
// "Lambda"). Anything else is refused before any work, with the path of what is wrong.
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { RULE_IDS } from '../core/rules/index.js';
import { firstIssue } from '../core/validation.js';
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

export function parseInvocation(event: unknown): AuditInvocation {
  const isSchedule = typeof event === 'object' && event !== null && 'source' in event;
  if (isSchedule) {
    const result = scheduleEventSchema.safeParse(event);
    if (!result.success)
      throw new InvalidInputError(`event: not a schedule event (${firstIssue(result.error)})`);
    return { trigger: 'schedule', stores: [], rules: [], buckets: [], dryRun: false, notify: true };
  }
  const result = manualPayloadSchema.safeParse(event ?? {});
  if (!result.success)
    throw new InvalidInputError(
      `payload: ${firstIssue(result.error)}; expected { stores?: [id|name], rules?: [rule], buckets?: [name], dryRun?: boolean, notify?: boolean }`,
    );
  const p = result.data;
  return {
    trigger: 'manual',
    stores: p.stores ?? [],
    rules: p.rules ?? [],
    buckets: p.buckets ?? [],
    dryRun: p.dryRun ?? false,
    notify: p.notify ?? true,
  };
}
