// `csdrift baseline --write FILE`: today's findings as a suppressions file, for a person to fill in
// (reason, owner) before it is used. Writes no report and leaves the ledger alone.
import { open } from 'node:fs/promises';
import { Document } from 'yaml';
import { runAudit } from '../audit.js';
import { InvalidInputError } from '../core/errors.js';
import { EXIT } from '../core/report.js';
import type { AuditFlags, Io } from './audit-command.js';
import { resolveAuditInputs } from './audit-command.js';
import { progressPrinter } from './progress.js';

export interface BaselineFlags extends AuditFlags {
  write?: string;
}

const DAYS = 30;

export async function baselineCommand(flags: BaselineFlags, io: Io): Promise<number> {
  if (!flags.write) throw new InvalidInputError('--write FILE: required (where the suppressions file goes)');
  const inputs = await resolveAuditInputs(flags, io.stderr);
  const { report } = await runAudit({
    ...inputs,
    trigger: 'cli',
    onProgress: progressPrinter(io.stderr, { quiet: flags.quiet === true }),
  });
  const expires = new Date(Date.parse(report.finishedAt) + DAYS * 86_400_000).toISOString().slice(0, 10);
  const suppressions = report.findings
    .filter((f) => f.status !== 'suppressed' && f.rule !== 'store-unverified')
    .map((f) => ({
      rule: f.rule,
      store: f.store.uuid,
      bucket: f.bucket ?? '-',
      reason: '',
      owner: '',
      expires,
    }));

  const doc = new Document({ suppressions });
  doc.commentBefore = [
    ` csdrift baseline of run ${report.runId} (${report.finishedAt}): ${suppressions.length} finding(s).`,
    ' Fill in reason (why it is accepted) and owner (who answers for it) on each entry you keep;',
    ` csdrift refuses entries without them. Each expires on ${expires}; suppressed findings stay in reports.`,
  ].join('\n');
  // 'wx': never overwrite a baseline someone may already have filled in.
  const handle = await open(flags.write, 'wx').catch((err: NodeJS.ErrnoException) => {
    throw new InvalidInputError(
      `--write ${flags.write}: ${err.code === 'EEXIST' ? 'exists already; choose another name' : `cannot write it (${err.code})`}`,
    );
  });
  try {
    await handle.writeFile(doc.toString({ lineWidth: 0 }));
  } finally {
    await handle.close();
  }
  if (!flags.quiet) io.stderr(`wrote ${suppressions.length} suppression(s) to ${flags.write}`);
  if (report.status === 'incomplete') {
    io.stderr('some stores could not be verified: their drift is not in the baseline');
    return EXIT.incomplete;
  }
  return 0;
}
