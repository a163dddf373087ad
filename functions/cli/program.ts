// csdrift's command line: every command, its options and what it runs, over the same engine the
// Lambda functions run. main.ts binds it to the process; tests run it in-process with their own Io.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CsdriftError, exitStatusOf } from '../core/errors.js';
import { SEVERITIES } from '../core/model.js';
import { EXIT } from '../core/report.js';
import { DEFAULT_FORMATS, REPORT_FORMATS } from '../reports/formats.js';
import type { WatchFlags } from './watch-command.js';
import type { AuditFlags, Io } from './audit-command.js';
import type { BaselineFlags } from './baseline-command.js';
import type { RemediateFlags } from './remediate-command.js';
import type { SuppressionsFlags } from './suppressions-command.js';
import type { ReportFlags } from './report-command.js';
import type { ValidateFlags } from './validate-command.js';
import { SHELLS } from './completion.js';
import type { RulesFlags } from './rules-command.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The installed package's version: package.json sits two folders above dist/cli/. */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Where the database and the config are: every command that reads CloudStack. */
function databaseOptions(command: Command, configHelp = 'config file (JSON or YAML)'): Command {
  return command
    .option(
      '--db <url>',
      'mysql://USER:PASSWORD@HOST:PORT/DATABASE of the CloudStack database (env CSDRIFT_DB_URL)',
    )
    .option('--db-file <path>', 'read the database URL from this file (a systemd credential, say)')
    .option('--config <file>', configHelp);
}

/** The database, the config, and where the state is: every command that reads CloudStack and keeps state. */
function connectionOptions(command: Command, configHelp?: string): Command {
  return databaseOptions(command, configHelp).option(
    '--out <dir>',
    'where reports and the ledger go: a folder or s3://BUCKET/PREFIX',
    './drift-reports',
  );
}

/** What a run writes and whom it tells: audit, baseline and watch. */
function outputOptions(command: Command): Command {
  return command
    .option(
      '--format <list>',
      `report formats, comma-separated (${REPORT_FORMATS.join(', ')})`,
      DEFAULT_FORMATS,
    )
    .option('--quiet', 'no progress on standard error')
    .option('--sns-topic <arn>', 'publish remediation tasks to this SNS topic')
    .option('--slack-webhook-secret <id>', 'post to the Slack webhook in this secret')
    .option('--no-notify', 'send no notification');
}

/** What an audit looks at: `audit` and `baseline` share these. */
function scopeOptions(command: Command): Command {
  return command
    .option('--store <id|name>', 'audit only this store (repeatable)', collect, [])
    .option('--rule <rule>', 'run only this rule (repeatable)', collect, [])
    .option('--bucket <name>', 'a targeted audit of this bucket only (repeatable)', collect, []);
}

/** The inputs of `audit` (docs/contract.md, "Command line"). */
function auditInputs(command: Command): Command {
  return scopeOptions(outputOptions(connectionOptions(command)))
    .addOption(
      new Option('--fail-on <severity>', 'lowest severity that makes the exit status 1')
        .choices(SEVERITIES)
        .default('low'),
    )
    .option('--json', 'print the report as JSON on standard output');
}

export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('csdrift')
    .description('Finds drift between Apache CloudStack object storage records and the stores behind them')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true);

  auditInputs(program.command('audit').description('audit the stores of a CloudStack database'))
    .option('--metrics-file <path>', "write the run's figures for node_exporter's textfile collector")
    .action(async (flags: AuditFlags) => {
      // Each command loads only what it runs: the demo's S3 server and the remediation's API client
      // are tens of MB a nightly audit does not need.
      const { auditCommand } = await import('./audit-command.js');
      setExitCode(await auditCommand(flags, io));
    });

  // Its own flags only: it writes no report, tells nobody and leaves the ledger alone.
  scopeOptions(
    databaseOptions(
      program.command('baseline').description("write today's findings as a suppressions file to fill in"),
    ),
  )
    .option('--write <file>', 'the suppressions file to write (never overwritten)')
    .option('--quiet', 'no progress on standard error')
    .action(async (flags: BaselineFlags) => {
      const { baselineCommand } = await import('./baseline-command.js');
      setExitCode(await baselineCommand(flags, io));
    });

  outputOptions(
    connectionOptions(
      program
        .command('watch')
        .description("audit each bucket again as CloudStack's change events name it, until SIGTERM"),
      'config file (JSON or YAML) with its watch section',
    ),
  ).action(async (flags: WatchFlags) => {
    const { watchCommand } = await import('./watch-command.js');
    setExitCode(await watchCommand(flags, io));
  });

  connectionOptions(
    program
      .command('remediate')
      .description('plan, and with --apply carry out, the guarded fix of one finding')
      .option('--finding <id>', 'the finding id, from the report')
      .option('--apply', 'carry the plan out (off: print it and change nothing)'),
  ).action(async (flags: RemediateFlags) => {
    const { remediateCommand } = await import('./remediate-command.js');
    setExitCode(await remediateCommand(flags, io));
  });

  program
    .command('report')
    .description(
      'print the current view (every open finding now, from the ledger), or a stored run, in any format, without auditing',
    )
    .option(
      '--out <dir>',
      'where the reports and the ledger are: a folder or s3://BUCKET/PREFIX',
      './drift-reports',
    )
    .option('--run <id>', 'a run id, latest (the last full run) or current', 'current')
    .option('--format <format>', 'one of json, html, csv, md', 'md')
    .option('--list', 'list the stored runs, newest first')
    .action(async (flags: ReportFlags) => {
      const { reportCommand } = await import('./report-command.js');
      setExitCode(await reportCommand(flags, io));
    });

  program
    .command('suppressions')
    .description('list or remove the suppressions written from Slack (Suppress 30 days, Not drift)')
    .argument('<verb>', 'list or remove')
    .argument('[id]', 'the id to remove, as list shows it')
    .option(
      '--out <dir>',
      'where the reports and the ledger are: a folder or s3://BUCKET/PREFIX',
      './drift-reports',
    )
    .option('--json', 'list as JSON')
    .action(async (verb: string, id: string | undefined, flags: SuppressionsFlags) => {
      const { suppressionsCommand } = await import('./suppressions-command.js');
      setExitCode(await suppressionsCommand(verb, id, flags, io));
    });

  databaseOptions(
    program
      .command('validate')
      .description('check a config as a run would (secrets and files read), without auditing'),
    'the config file (JSON or YAML) to check',
  )
    .option('--connect', 'also read the database and ask each store one cheap question (HeadBucket)')
    .action(async (flags: ValidateFlags) => {
      const { validateCommand } = await import('./validate-command.js');
      setExitCode(await validateCommand(flags, io));
    });

  program
    .command('rules')
    .description('list every rule: its severity, what it finds, when it reports and what to do')
    .option('--json', 'every rule as JSON: id, severity, texts, options, billing, remediation')
    .option('--markdown', "the README's rules table")
    .action(async (flags: RulesFlags) => {
      const { rulesCommand } = await import('./rules-command.js');
      setExitCode(await rulesCommand(flags, io));
    });

  program
    .command('completion')
    .description('print shell completion for bash, zsh or fish (e.g. source <(csdrift completion bash))')
    .argument('<shell>', SHELLS.join(', '))
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      await io.stdout(completionScript(program, shell));
      setExitCode(0);
    });

  program
    .command('demo')
    .description('a self-contained audit of a throwaway CloudStack database and an in-process S3 store')
    .action(async () => {
      const { demoCommand } = await import('./demo.js');
      setExitCode(await demoCommand(io));
    });
  return program;
}

/** Runs one command line (`argv` as process.argv has it) and returns the exit status; never throws. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let code: number | undefined;
  try {
    await buildProgram(io, (c) => (code = c)).parseAsync(argv);
    if (code === undefined)
      throw new CsdriftError('no command given: use csdrift audit, csdrift demo or csdrift --help');
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      if (err.code === 'commander.help') {
        io.stderr('no command given: use csdrift audit, csdrift demo or csdrift --help');
        return EXIT.error;
      }
      // One line: commander puts its suggestion ("Did you mean audit?") on a line of its own.
      io.stderr(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '));
      return EXIT.error;
    }
    if (err instanceof CsdriftError) {
      io.stderr(err.message);
      return exitStatusOf(err);
    }
    io.stderr(`unexpected error: ${(err as Error)?.message ?? String(err)}`);
    return EXIT.error;
  }
}
