// csdrift validate: a config checked as a run checks it, nothing audited; with --connect, the
// database read and each store asked one HeadBucket of a name no one uses.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csdrift } from '../support/cli.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

describe('csdrift validate', () => {
  const ctx = cephCloudPerTest('4.21');
  const config = async (text: string) => {
    const path = join(ctx.dir, 'csdrift.yaml');
    await writeFile(path, text);
    return path;
  };

  it('says a good config is valid and what it asks for, and audits nothing', async () => {
    const path = await config(
      'rules:\n  bucket-usage-drift: { enabled: false }\n  bucket-missing-in-store: { remediate: true }\nwatch: { cloudstack: { pollEventsSeconds: 60 } }\n',
    );
    const run = await csdrift(['validate', '--config', path]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        `${path}: valid`,
        expect.stringMatching(
          /^ {2}rules: \d+ of \d+ on \(off: bucket-usage-drift\); --apply allowed for bucket-missing-in-store$/,
        ),
        '  notifications: none',
        '  watch: cloud.event (listening on 127.0.0.1:9464)',
      ]),
    );
    expect((await readdir(ctx.dir)).sort()).toEqual(['csdrift.yaml']);
  });

  it.each([
    [
      'an endpoint that is not http(s)',
      'stores: { ceph-1: { endpoint: "ftp://rgw:21" } }\n',
      /stores\.ceph-1\.endpoint: expected an http\(s\) URL/,
    ],
    ['a watch section with no source', 'watch: { debounceSeconds: 5 }\n', /csdrift\.yaml: watch: no source/],
    [
      'a secret file that is not there',
      'db: { urlFile: /nonexistent/db-url }\n',
      /db\.urlFile: \/nonexistent\/db-url: cannot read it \(ENOENT\)/,
    ],
  ])('refuses %s with one line naming the file, exit 3', async (_label, text, message) => {
    const run = await csdrift(['validate', '--config', await config(text)]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  /** validate --connect against this test's database, with one store, ceph-1, and this config. */
  async function connect(text: string) {
    await ctx.cloud.store('ceph-1');
    return csdrift([
      'validate',
      '--connect',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--config',
      await config(text),
    ]);
  }

  it('--connect reads the database and reaches each store with its keys', async () => {
    const run = await connect('gracePeriodMinutes: 30\n');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/database mysql:\/\/.*: a CloudStack database with 1 store\(s\)/);
    expect(run.stdout).toMatch(/ {2}store ceph-1 \(Ceph, http:\/\/.*\): reachable, its keys accepted/);
  });

  it('--connect says which store it could not verify, and why, never its keys (exit 2)', async () => {
    const run = await connect(
      'stores: { ceph-1: { accessKey: WRONGKEYWRONGKEY, secretKey: WRONGSECRETWRONGSECRET } }\n',
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/ {2}store ceph-1 \(Ceph, .*\): not verified: /);
    expect(run.stdout + run.stderr).not.toMatch(/WRONGSECRET/);
  });
});
