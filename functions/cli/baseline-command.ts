// `csdrift baseline --write FILE`: today's findings as a suppressions file, for a person to fill in
// (reason, owner) before it is used. Writes no report and leaves the ledger alone.
import { open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Document } from 'yaml';
import { runAudit } from '../audit.js';
import { InvalidInputError } from '../core/errors.js';
import { EXIT } from '../core/report.js';
import type { AuditFlags, ConnectionFlags, Io } from './audit-command.js';
import { resolveAuditInputs } from './audit-command.js';
import { progressPrinter } from './progress.js';

export interface BaselineFlags
  extends Pick<ConnectionFlags, 'db' | 'dbFile' | 'config'>, Pick<AuditFlags, 'store' | 'rule' | 'bucket'> {
  write?: string;
  quiet?: boolean;
}

const DAYS = 30;

export async function baselineCommand(flags: BaselineFlags, io: Io): Promise<number> {
  const file = flags.write;
  if (!file) throw new InvalidInputError('--write FILE: required (where the suppressions file goes)');
  // Refused before any scan: a baseline someone may have filled in is never overwritten.
  await writable(file);
  const inputs = await resolveAuditInputs(flags, io.stderr);
  const { report } = await runAudit({
    ...inputs,
    trigger: 'cli',
    onProgress: progressPrinter(io.stderr, { quiet: flags.quiet === true }),
  });
  const expires = new Date(Date.parse(report.finishedAt) + DAYS * 86_400_000).toISOString().slice(0, 10);
  const names = report.coverage.map((c) => c.store.name);
  const sharedNames = new Set(names.filter((n, i) => names.indexOf(n) !== i));
  const suppressions = report.findings
    .filter((f) => f.status !== 'suppressed' && f.rule !== 'store-unverified')
    .map((f) => ({
      rule: f.rule,
      // By name, as people read it; by uuid where two stores share the name.
      store: sharedNames.has(f.store.name) ? f.store.uuid : f.store.name,
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
  const handle = await open(file, 'wx').catch((err: NodeJS.ErrnoException) => {
    throw new InvalidInputError(
      `--write ${file}: ${err.code === 'EEXIST' ? 'exists already; choose another name' : `cannot write it (${err.code})`}`,
    );
  });
  try {
    await handle.writeFile(doc.toString({ lineWidth: 0 }));
  } finally {
    await handle.close();
  }
  if (!flags.quiet)
    io.stderr(
      `wrote ${suppressions.length} suppression(s) to ${file}; fill in reason and owner, then add its suppressions to your config (see the README, "Suppressions")`,
    );
  if (report.status === 'incomplete') {
    io.stderr('some stores could not be verified: their drift is not in the baseline');
    return EXIT.incomplete;
  }
  return 0;
}

/** Refuses, before any scan, a file that exists or a folder that does not. */
async function writable(file: string): Promise<void> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (exists) throw new InvalidInputError(`--write ${file}: exists already; choose another name`);
  const folder = await stat(dirname(file)).catch(() => null);
  if (!folder?.isDirectory()) throw new InvalidInputError(`--write ${file}: no folder ${dirname(file)}`);
}
