// The command line run in-process (cli/program.ts) with an Io of its own, for the commands that need
// no database: what they print, their exit status, and their one-line refusals. The same commands
// run as a child process in the integration tests.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../functions/cli/audit-command.js';
import { runCli } from '../../functions/cli/program.js';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string[] }> {
  let stdout = '';
  const stderr: string[] = [];
  const io: Io = {
    stdout: (text) => {
      stdout += text;
      return Promise.resolve();
    },
    stderr: (line) => stderr.push(line),
  };
  const code = await runCli(['node', 'csdrift', ...args], io);
  return { code, stdout, stderr };
}

describe('csdrift in-process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('completion: bash, zsh and fish scripts from the program itself; an unknown shell refused', async () => {
    const bash = await cli('completion', 'bash');
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain(
      "baseline) opts='--db --db-file --config --store --rule --bucket --write --quiet'",
    );
    expect((await cli('completion', 'zsh')).stdout).toContain('bashcompinit');
    expect((await cli('completion', 'fish')).stdout).toContain('-l fail-on -x -a');
    expect(await cli('completion', 'tcsh')).toMatchObject({
      code: 3,
      stderr: ['completion tcsh: unknown shell (known: bash, zsh, fish)'],
    });
  });

  it('validate: a config, what it asks for; a mistake in it, one line', async () => {
    const good = join(dir, 'good.yaml');
    await writeFile(
      good,
      'notify: { slackWebhookUrl: "https://hooks.slack.com/services/T/B/x" }\nwatch: { minio: { listen: true } }\n',
    );
    const ok = await cli('validate', '--config', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${good}: valid`);
    expect(ok.stdout).toContain('  notifications: Slack');
    expect(ok.stdout).toContain('  watch: MinIO notifications (listening on 127.0.0.1:9464)');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'gracePeriod: 5\n');
    expect(await cli('validate', '--config', bad)).toMatchObject({
      code: 3,
      stderr: [`${bad}: (top level): unknown key "gracePeriod"`],
    });
    expect((await cli('validate')).stderr).toEqual([
      '--config FILE: required (the config to check), or --connect',
    ]);
  });

  it('report --list: no runs said on stderr; stored runs as a table and as JSON', async () => {
    const out = join(dir, 'out');
    expect(await cli('report', '--out', out, '--list')).toMatchObject({ code: 0, stdout: '' });
    const runId = '20261204T020000Z-abcdef';
    await mkdir(join(out, 'runs', '2026', '12', '04', runId), { recursive: true });
    await writeFile(join(out, 'runs', '2026', '12', '04', runId, 'report.json'), '{}');
    const table = await cli('report', '--out', out, '--list');
    expect(table.stdout.split('\n')[1]).toMatch(
      new RegExp(`^-\\s+${runId}\\s+-\\s+-\\s+-\\s+\\(not in the run history\\)$`),
    );
    expect(JSON.parse((await cli('report', '--out', out, '--list', '--format', 'json')).stdout)).toEqual([
      { runId, at: null, trigger: null, status: null, findings: null, scope: null },
    ]);
  });

  it('rules, --version, a mistyped command, and no command at all', async () => {
    expect(JSON.parse((await cli('rules', '--json')).stdout)).toHaveLength(20);
    expect((await cli('--version')).code).toBe(0);
    expect(await cli('audti')).toMatchObject({
      code: 3,
      stderr: ["unknown command 'audti' (Did you mean audit?)"],
    });
    expect((await cli()).code).toBe(3);
  });
});
