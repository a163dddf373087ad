// The CLI in the shell around it: completion scripts written from the program's own commands and
// options (the bash one run in a real bash, as the shell calls it on <Tab>), and an older Node.js.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { csdrift } from '../support/cli.js';

const run = promisify(execFile);

describe('csdrift completion', () => {
  /** What bash offers for the words typed so far (the last one being completed). */
  async function offered(script: string, words: string[]): Promise<string[]> {
    const program = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_csdrift; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await run('bash', ['-c', program]);
    return stdout.split('\n').filter(Boolean);
  }

  it('bash: commands, each command’s own options, and the values csdrift knows', async () => {
    const script = (await csdrift(['completion', 'bash'])).stdout;
    expect(await offered(script, ['csdrift', 'va'])).toEqual(['validate']);
    expect(await offered(script, ['csdrift', 'baseline', '--'])).toEqual(
      expect.arrayContaining(['--write', '--store', '--db-file']),
    );
    expect(await offered(script, ['csdrift', 'baseline', '--'])).not.toContain('--format');
    expect(await offered(script, ['csdrift', 'audit', '--rule', 'bucket-m'])).toEqual([
      'bucket-missing-in-store',
    ]);
    expect(await offered(script, ['csdrift', 'audit', '--fail-on', 'h'])).toEqual(['high']);
  });

  it('zsh runs the same through bashcompinit; fish gets its own complete lines', async () => {
    const zsh = (await csdrift(['completion', 'zsh'])).stdout;
    expect(zsh).toContain('bashcompinit');
    expect(zsh).toContain('complete -o default -F _csdrift csdrift');
    const fish = (await csdrift(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c csdrift -n __fish_use_subcommand -a validate -d 'check a config");
    expect(fish).toContain(
      "complete -c csdrift -n '__fish_seen_subcommand_from audit' -l fail-on -x -a 'critical high medium low info'",
    );
  });

  it('an unknown shell is one line and exit 3', async () => {
    const result = await csdrift(['completion', 'tcsh']);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('csdrift: completion tcsh: unknown shell (known: bash, zsh, fish)\n');
  });
});

describe('csdrift on a Node.js older than 22', () => {
  // The machine's own node, when it is older than the Node 22 the tests run on (Debian 12 ships 20).
  const older = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => {
    try {
      return Number(/^v(\d+)/.exec(execFileSync(path, ['--version'], { encoding: 'utf8' }))?.[1]) < 22;
    } catch {
      return false;
    }
  });

  it.skipIf(!older)('says so in one line, once, and goes on', async () => {
    const { stdout, stderr } = await run(older as string, [
      new URL('../../bin/csdrift.js', import.meta.url).pathname,
      '--version',
    ]);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(
        /^csdrift: warning: Node\.js 2\d\.\S+ is older than the Node\.js 22 .*npx -p node@22/,
      ),
    ]);
  });
});
