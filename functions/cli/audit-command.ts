import { runAudit } from '../audit.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import { InvalidInputError } from '../core/errors.js';
import type { RuleId, Severity } from '../core/model.js';
import { RULE_IDS } from '../core/model.js';
import { EXIT, exitCode } from '../core/report.js';
import type { AuditOutcome, AuditRequest } from '../audit.js';
import { LedgerConflictError } from '../core/errors.js';
import { parseFormats } from '../reports/formats.js';
import type { ReportFormat } from '../reports/formats.js';
import { renderJson } from '../reports/json.js';
import { openSink } from '../reports/open-sink.js';
import { publishRun } from '../reports/publish.js';
import type { ReportSink } from '../reports/sink.js';
import { loadConfigFile } from './load-config.js';
import { progressPrinter } from './progress.js';
import { formatSummary } from './summary.js';

export interface AuditFlags {
  db?: string;
  config?: string;
  out: string;
  format: string;
  store: string[];
  rule: string[];
  failOn: Severity;
  json?: boolean;
  quiet?: boolean;
  snsTopic?: string;
  slackWebhookSecret?: string;
  notify: boolean;
}

export interface Io {
  stdout: (text: string) => Promise<void>;
  stderr: (line: string) => void;
}

/** What `audit` and `baseline` share: the flags and config turned into an audit request. */
export async function resolveAuditInputs(flags: AuditFlags, io: Io): Promise<Omit<AuditRequest, 'trigger'>> {
  if (flags.snsTopic || flags.slackWebhookSecret) {
    throw new InvalidInputError(
      '--sns-topic / --slack-webhook-secret: notifications are not available in this version',
    );
  }
  const rules = flags.rule.map((r) => {
    if (!(RULE_IDS as readonly string[]).includes(r))
      throw new InvalidInputError(`--rule ${r}: unknown rule (known: ${RULE_IDS.join(', ')})`);
    return r as RuleId;
  });
  const config = await loadConfigFile(flags.config);
  const dbUrl =
    flags.db ?? process.env.CSDRIFT_DB_URL ?? (config.db && 'url' in config.db ? config.db.url : undefined);
  if (!dbUrl) throw new InvalidInputError('--db: required (or CSDRIFT_DB_URL, or db.url in the config)');
  if (config.db && 'secretId' in config.db && !flags.db) {
    throw new InvalidInputError(
      'config db.secretId: Secrets Manager lookups are not available in this version; give --db',
    );
  }
  if (config.notify && flags.notify && !flags.quiet)
    io.stderr('config notify: notifications are not available in this version; ignored');
  return { db: parseDbUrl(dbUrl), config, stores: flags.store, rules };
}

export async function auditCommand(flags: AuditFlags, io: Io): Promise<number> {
  const formats = parseFormats(flags.format);
  const inputs = await resolveAuditInputs(flags, io);
  // A corrupt ledger stops the run here, before anything is audited or written.
  const sink = openSink(flags.out);
  const stored = await sink.readLedger();
  const outcome = await runAudit({
    ...inputs,
    trigger: 'cli',
    previousLedger: stored.ledger,
    ...(flags.quiet ? {} : { onProgress: progressPrinter(io.stderr) }),
  });
  const conflict = await publish(
    outcome,
    { sink, formats, ledgerVersion: stored.version, json: flags.json },
    io,
  );
  if (conflict) {
    io.stderr(conflict.message);
    return EXIT.incomplete;
  }
  return exitCode(outcome.report, flags.failOn);
}

export interface PublishFlags {
  sink: ReportSink;
  formats: ReportFormat[];
  ledgerVersion: string | null;
  json?: boolean | undefined;
}

/** Writes the run, prints it, and hands back a lost race on the ledger rather than throwing it. */
export async function publish(
  outcome: AuditOutcome,
  flags: PublishFlags,
  io: Io,
): Promise<LedgerConflictError | undefined> {
  const { report, ledger } = outcome;
  let conflict: LedgerConflictError | undefined;
  let reportUri = flags.sink.location('latest/report.json');
  try {
    ({ reportUri } = await publishRun({
      sink: flags.sink,
      report,
      ledger,
      formats: flags.formats,
      ledgerVersion: flags.ledgerVersion,
      writeLedger: true,
    }));
  } catch (err) {
    if (!(err instanceof LedgerConflictError)) throw err;
    conflict = err;
  }
  await io.stdout(flags.json ? renderJson(report) : formatSummary(report, reportUri));
  return conflict;
}
