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
import type { Published } from '../reports/publish.js';
import { publishRun, reportUri } from '../reports/publish.js';
import type { AuditConfig } from '../core/config.js';
import { notifyRun } from '../notify/dispatch.js';
import type { Notifier } from '../notify/notifier.js';
import { SlackNotifier } from '../notify/slack.js';
import { SnsNotifier } from '../notify/sns.js';
import { slackWebhookFromSecret } from '../notify/webhook-secret.js';
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
export async function resolveAuditInputs(flags: AuditFlags): Promise<Omit<AuditRequest, 'trigger'>> {
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
  return { db: parseDbUrl(dbUrl), config, stores: flags.store, rules };
}

export async function auditCommand(flags: AuditFlags, io: Io): Promise<number> {
  const formats = parseFormats(flags.format);
  const inputs = await resolveAuditInputs(flags);
  const notifiers = flags.notify ? await notifiersFor(flags, inputs.config) : [];
  // A corrupt ledger stops the run here, before anything is audited or written.
  const sink = openSink(flags.out);
  const stored = await sink.readLedger();
  const outcome = await runAudit({
    ...inputs,
    trigger: 'cli',
    previousLedger: stored.ledger,
    ...(flags.quiet ? {} : { onProgress: progressPrinter(io.stderr) }),
  });
  const published = await publish(
    outcome,
    { sink, formats, ledgerVersion: stored.version, json: flags.json },
    io,
  );
  if (published.conflict) {
    io.stderr(published.conflict.message); // the run that won the ledger tells people, not this one
    return EXIT.incomplete;
  }
  if (notifiers.length) {
    const told = await notifyRun({
      sink,
      ...outcome,
      ledgerVersion: published.ledgerVersion,
      reportUri: published.reportUri,
      notifiers,
      config: inputs.config.notify,
    });
    if (!flags.quiet)
      io.stderr(
        `notified: ${Object.entries(told.sent)
          .map(([channel, n]) => `${channel} ${n} message(s)`)
          .join(
            ', ',
          )}${told.trippedStores.length ? `; too many new findings on ${told.trippedStores.join(', ')}: one "investigate this store" task each` : ''}`,
      );
    for (const failure of told.failures)
      io.stderr(`notification not sent, to be tried again next run: ${failure}`);
  }
  return exitCode(outcome.report, flags.failOn);
}

/** SNS and Slack from the flags, else from the config's notify section. */
async function notifiersFor(flags: AuditFlags, config: AuditConfig): Promise<Notifier[]> {
  const notifiers: Notifier[] = [];
  const topic = flags.snsTopic ?? config.notify?.snsTopicArn;
  if (topic) notifiers.push(new SnsNotifier(topic));
  const secretId = flags.slackWebhookSecret ?? config.notify?.slackWebhookSecretId;
  const webhook = secretId ? await slackWebhookFromSecret(secretId) : config.notify?.slackWebhookUrl;
  if (webhook) notifiers.push(new SlackNotifier(webhook));
  return notifiers;
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
): Promise<Published & { conflict?: LedgerConflictError }> {
  const { report, ledger } = outcome;
  let result: Published & { conflict?: LedgerConflictError };
  try {
    result = await publishRun({
      sink: flags.sink,
      report,
      ledger,
      formats: flags.formats,
      ledgerVersion: flags.ledgerVersion,
      writeLedger: true,
    });
  } catch (err) {
    if (!(err instanceof LedgerConflictError)) throw err;
    result = {
      reportUri: reportUri(flags.sink, report, flags.formats),
      ledgerVersion: null,
      conflict: err,
    };
  }
  await io.stdout(flags.json ? renderJson(report) : formatSummary(report, result.reportUri));
  return result;
}
