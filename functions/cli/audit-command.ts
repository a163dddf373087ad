import type { AuditRequest } from '../audit.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import type { AuditConfig } from '../core/config.js';
import { InvalidInputError } from '../core/errors.js';
import { bucketNameProblem } from '../core/bucket-name.js';
import { visible } from '../core/shell.js';
import type { RuleId, Severity } from '../core/model.js';
import { RULE_IDS } from '../core/rules/index.js';
import { EXIT, exitCode } from '../core/report.js';
import type { Report, RunStatus } from '../core/report.js';
import type { Notifier } from '../notify/notifier.js';
import { SlackNotifier } from '../notify/slack.js';
import { parseFormats } from '../reports/formats.js';
import { secretsManagerReader, slackWebhookSecret } from '../secrets/resolve-secrets.js';
import { renderJson } from '../reports/json.js';
import { openStorage } from '../state/open-storage.js';
import { auditAndPublish } from '../run.js';
import type { DbSource } from './load-config.js';
import { loadConfigFile } from './load-config.js';
import { progressPrinter } from './progress.js';
import { formatSummary } from './summary.js';

/** Where the CloudStack database, the config and the state are: every command that reads CloudStack takes these. */
export interface ConnectionFlags {
  db?: string;
  /** --db-file: the database URL read from a file. */
  dbFile?: string;
  config?: string;
  out: string;
}

/** What a run writes and tells: `audit`, `baseline` and `watch` take these. */
export interface OutputFlags {
  format: string;
  quiet?: boolean;
  snsTopic?: string;
  slackWebhookSecret?: string;
  notify: boolean;
}

export interface AuditFlags extends ConnectionFlags, OutputFlags {
  store: string[];
  rule: string[];
  /** --bucket: a targeted audit of these buckets. */
  bucket: string[];
  failOn: Severity;
  json?: boolean;
  /** --metrics-file: the run's figures for node_exporter's textfile collector (audit only). */
  metricsFile?: string;
}

export interface Io {
  stdout: (text: string) => Promise<void>;
  stderr: (line: string) => void;
}

/** What `audit` and `baseline` share: the flags and config turned into an audit request. */
export async function resolveAuditInputs(
  flags: Pick<AuditFlags, 'db' | 'dbFile' | 'config' | 'store' | 'rule' | 'bucket'>,
  warn: (line: string) => void = () => {},
): Promise<Omit<AuditRequest, 'trigger'>> {
  const rules = flags.rule.map((r) => {
    if (!(RULE_IDS as readonly string[]).includes(r))
      throw new InvalidInputError(`--rule ${r}: unknown rule (known: ${RULE_IDS.join(', ')})`);
    return r as RuleId;
  });
  const { db, config } = await resolveConnection(flags, warn);
  const buckets = flags.bucket.map((name) => checkBucketName(name, '--bucket'));
  return { db, config, stores: flags.store, rules, buckets };
}

/**
 * The database and the config every command that reads CloudStack starts from, checked. The
 * database is the first of --db, --db-file, CSDRIFT_DB_URL_FILE, CSDRIFT_DB_URL and the config's
 * `db` (url, urlFile or secretId), each resolved in the config's one secrets step.
 */
export async function resolveConnection(
  flags: Pick<ConnectionFlags, 'db' | 'dbFile' | 'config'>,
  warn: (line: string) => void = () => {},
): Promise<Pick<AuditRequest, 'db' | 'config'>> {
  if (flags.db !== undefined && flags.dbFile !== undefined)
    throw new InvalidInputError('--db and --db-file: give one of them');
  const env = process.env;
  const dbSource: DbSource | undefined =
    flags.db !== undefined
      ? { db: { url: flags.db }, label: '--db' }
      : flags.dbFile !== undefined
        ? { db: { urlFile: flags.dbFile }, label: '--db-file' }
        : env.CSDRIFT_DB_URL_FILE
          ? { db: { urlFile: env.CSDRIFT_DB_URL_FILE }, label: 'CSDRIFT_DB_URL_FILE' }
          : env.CSDRIFT_DB_URL
            ? { db: { url: env.CSDRIFT_DB_URL }, label: 'CSDRIFT_DB_URL' }
            : undefined;
  const config = await loadConfigFile(flags.config, warn, dbSource ? { dbSource } : {});
  const dbUrl = config.db && 'url' in config.db ? config.db.url : undefined;
  if (!dbUrl) throw new InvalidInputError('--db: required (or CSDRIFT_DB_URL, or db.url in the config)');
  return { db: parseDbUrl(dbUrl), config };
}

/** A bucket name asked for: one a store could hold, or one line saying why not. */
export function checkBucketName(name: string, where: string): string {
  const problem = bucketNameProblem(name);
  if (problem) throw new InvalidInputError(`${where} ${visible(name.slice(0, 80))}: ${problem}`);
  return name;
}

export async function auditCommand(flags: AuditFlags, io: Io): Promise<number> {
  if (flags.metricsFile === undefined) return audit(flags, io);
  const metricsFile = flags.metricsFile;
  if (!metricsFile.trim()) throw new InvalidInputError('--metrics-file: empty; give a file path');
  // Written whatever happens: a run that fails is what the alert on the last success is for.
  const startedAt = new Date();
  const write = (status: RunStatus, report: Report | null, notificationsFailed?: Record<string, number>) =>
    import('../metrics/metrics-file.js').then(({ writeMetricsFile }) =>
      writeMetricsFile(metricsFile, {
        status,
        report,
        startedAt,
        finishedAt: new Date(),
        ...(notificationsFailed ? { notificationsFailed } : {}),
      }),
    );
  let result: { code: number; report: Report; notificationsFailed?: Record<string, number> };
  try {
    result = await auditWithReport(flags, io);
  } catch (err) {
    await write('error', null).catch(() => {}); // the run's own error is the one to tell
    throw err;
  }
  await write(result.report.status, result.report, result.notificationsFailed);
  return result.code;
}

async function audit(flags: AuditFlags, io: Io): Promise<number> {
  return (await auditWithReport(flags, io)).code;
}

async function auditWithReport(
  flags: AuditFlags,
  io: Io,
): Promise<{ code: number; report: Report; notificationsFailed?: Record<string, number> }> {
  const formats = parseFormats(flags.format);
  const inputs = await resolveAuditInputs(flags, io.stderr);
  const notifiers = flags.notify ? await notifiersFor(flags, inputs.config) : [];
  const outcome = await auditAndPublish({
    ...inputs,
    trigger: 'cli',
    storage: openStorage(flags.out),
    formats,
    notifiers,
    onProgress: progressPrinter(io.stderr, { quiet: flags.quiet === true }),
  });
  await io.stdout(flags.json ? renderJson(outcome.report) : formatSummary(outcome.report, outcome.reportUri));
  if (outcome.historyProblem) io.stderr(`warning: run history not updated: ${outcome.historyProblem}`);
  if (outcome.conflict) {
    io.stderr(outcome.conflict.message); // the run that won the ledger tells people, not this one
    return { code: EXIT.incomplete, report: outcome.report };
  }
  const told = outcome.notified;
  if (told && !flags.quiet) {
    const sent = Object.entries(told.sent)
      .map(([channel, n]) => `${channel} ${n} message(s)`)
      .join(', ');
    const tripped = told.trippedStores.length
      ? `; too many new findings on ${told.trippedStores.join(', ')}: one "investigate this store" task each`
      : '';
    io.stderr(`notified: ${sent}${tripped}`);
  }
  for (const failure of told?.failures ?? [])
    io.stderr(`notification not sent, to be tried again next run: ${failure}`);
  return {
    code: exitCode(outcome.report, flags.failOn),
    report: outcome.report,
    ...(told ? { notificationsFailed: told.failed } : {}),
  };
}

/** SNS and Slack from the flags, else from the config's notify section. */
export async function notifiersFor(
  flags: Pick<AuditFlags, 'snsTopic' | 'slackWebhookSecret'>,
  config: AuditConfig,
): Promise<Notifier[]> {
  const notifiers: Notifier[] = [];
  // The SNS and Secrets Manager clients load only when asked for: an audit that tells nobody is lighter.
  const topic = flags.snsTopic ?? config.notify?.snsTopicArn;
  if (topic) {
    const { SnsNotifier } = await import('../notify/sns.js');
    notifiers.push(new SnsNotifier(topic));
  }
  // The config's slackWebhookSecretId was resolved with the rest of its secrets; the flag names one too.
  const webhook = flags.slackWebhookSecret
    ? await slackWebhookSecret(
        await secretsManagerReader(),
        flags.slackWebhookSecret,
        '--slack-webhook-secret',
      )
    : config.notify?.slackWebhookUrl;
  // With a signing secret, clicks can be verified: tasks carry Fix, Suppress 30 days and Not drift.
  const interactive = Boolean(config.notify?.slack?.signingSecret);
  if (webhook) notifiers.push(new SlackNotifier(webhook, undefined, { interactive }));
  const smtp = config.notify?.smtp;
  if (smtp) notifiers.push(await (await import('../notify/smtp.js')).SmtpNotifier.open(smtp));
  return notifiers;
}
