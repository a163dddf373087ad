// The files an on-prem operator installs: the systemd units pass systemd's own checks, and their
// sandbox keeps systemd's exposure score low.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const UNITS = new URL('../../deploy/systemd/', import.meta.url).pathname;
const BIN = new URL('../../bin/csdrift.js', import.meta.url).pathname;

describe('deploy/systemd', () => {
  let dir: string;
  beforeAll(async () => {
    // systemd checks that ExecStart exists: point it at this checkout's csdrift instead of npm's global one.
    dir = await mkdtemp(join(tmpdir(), 'csdrift-units-'));
    for (const name of await readdir(UNITS))
      await writeFile(
        join(dir, name),
        (await readFile(join(UNITS, name), 'utf8')).replaceAll('/usr/local/bin/csdrift', BIN),
      );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the audit service and its timer pass systemd-analyze verify', async () => {
    const units = (await readdir(dir)).map((name) => join(dir, name));
    const out = execFileSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', stdio: 'pipe' });
    expect(out).toBe('');
  });

  it.each(['csdrift-audit', 'csdrift-watch'])(
    'the %s service is sandboxed: systemd-analyze security rates it OK or better',
    (unit) => {
      const out = execFileSync(
        'systemd-analyze',
        ['security', '--offline=true', '--no-pager', join(dir, `${unit}.service`)],
        { encoding: 'utf8' },
      );
      const score = Number(
        new RegExp(`Overall exposure level for ${unit}\\.service: ([0-9.]+)`).exec(out)?.[1],
      );
      expect(score).toBeLessThanOrEqual(2); // recorded in the README
    },
  );

  it('passes secrets as credentials only, and runs as a user of its own with only its state writable', async () => {
    const unit = await readFile(join(UNITS, 'csdrift-audit.service'), 'utf8');
    expect(unit).toMatch(/^User=csdrift$/m);
    expect(unit).toMatch(/^ProtectSystem=strict$/m);
    expect(unit).toMatch(/^NoNewPrivileges=yes$/m);
    expect(unit).toMatch(/^StateDirectory=csdrift$/m);
    expect(unit).toMatch(/^LoadCredential=csdrift:\/etc\/csdrift\/credentials$/m); // a folder: files not there are not loaded
    expect(unit).toMatch(/--db-file %d\/csdrift_db-url/);
    expect(unit).not.toMatch(/^Environment=.*(PASSWORD|SECRET|KEY|mysql:\/\/)/im);
    const watch = await readFile(join(UNITS, 'csdrift-watch.service'), 'utf8');
    expect(watch).toMatch(/^User=csdrift$/m);
    expect(watch).toMatch(/^KillSignal=SIGTERM$/m);
    expect(watch).not.toMatch(/^Environment=.*(PASSWORD|SECRET|KEY|mysql:\/\/|amqp:\/\/)/im);
    const timer = await readFile(join(UNITS, 'csdrift-audit.timer'), 'utf8');
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=/m);
  });
});
