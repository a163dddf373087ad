// `csdrift remediate --finding ID [--apply]`: the plan, and with --apply its execution.
import { InvalidInputError } from '../core/errors.js';
import { EXIT } from '../core/report.js';
import { describeStep, remediationAllowed } from '../core/remediation.js';
import { remediate } from '../remediate.js';
import { openStorage } from '../state/open-storage.js';
import type { ConnectionFlags, Io } from './audit-command.js';
import { resolveConnection } from './audit-command.js';

export interface RemediateFlags extends ConnectionFlags {
  finding?: string;
  apply?: boolean;
}

export async function remediateCommand(flags: RemediateFlags, io: Io): Promise<number> {
  const inputs = await resolveConnection(flags, io.stderr);
  if (!flags.finding) throw new InvalidInputError('--finding ID: required (a finding id from the report)');
  const { finding, record } = await remediate({
    db: inputs.db,
    config: inputs.config,
    storage: openStorage(flags.out),
    findingId: flags.finding,
    apply: Boolean(flags.apply),
  });
  const lines = [
    `${record.applied ? 'Remediation' : 'Plan (nothing changed; add --apply to carry it out)'} for ${finding.rule}: ${finding.bucket ?? '-'} on ${finding.store.name}`,
    ...record.steps.map(
      (s, i) => `  ${i + 1}. [${s.outcome}] ${describeStep(s.step)}${s.detail ? ` - ${s.detail}` : ''}`,
    ),
  ];
  if (!record.applied && !remediationAllowed(inputs.config, finding.rule))
    lines.push(
      `To carry it out, allow it first: rules.${finding.rule}.remediate: true in the config, then --apply.`,
    );
  await io.stdout(`${lines.join('\n')}\n`);
  return record.steps.some((s) => s.outcome === 'failed') ? EXIT.incomplete : 0;
}
