import { runAudit } from '../audit.js';
import { parseDbUrl } from '../cloudstack/db-url.js';
import { InvalidInputError } from '../core/errors.js';
import type { RuleId, Severity } from '../core/model.js';
import { RULE_IDS } from '../core/model.js';
import { exitCode } from '../core/report.js';
import type { Report } from '../core/report.js';
import { writeReportToFolder } from '../reports/folder-sink.js';
import { renderJson } from '../reports/json.js';
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

export const FORMATS_AVAILABLE = ['json'];

export async function auditCommand(flags: AuditFlags, io: Io): Promise<number> {
  const formats = flags.format
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of formats) {
    if (!FORMATS_AVAILABLE.includes(f))
      throw new InvalidInputError(
        `--format ${f}: not available in this version (available: ${FORMATS_AVAILABLE.join(', ')})`,
      );
  }
  if (flags.out.startsWith('s3://'))
    throw new InvalidInputError(
      `--out ${flags.out}: S3 output is not available in this version; give a folder`,
    );
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

  const report = await runAudit({
    db: parseDbUrl(dbUrl),
    config,
    stores: flags.store,
    rules,
    trigger: 'cli',
    ...(flags.quiet ? {} : { onProgress: progressPrinter(io.stderr) }),
  });
  await publish(report, flags, io);
  return exitCode(report, flags.failOn);
}

export async function publish(
  report: Report,
  flags: Pick<AuditFlags, 'out' | 'json'>,
  io: Io,
): Promise<string> {
  const body = renderJson(report);
  const path = await writeReportToFolder(flags.out, report, [{ ext: 'json', body }]);
  await io.stdout(flags.json ? body : formatSummary(report, path));
  return path;
}
