import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThrowawayDatabase } from '../../functions/demo/throwaway-db.js';
import { csdrift } from '../support/cli.js';
import { TEST_DB_SERVER, dbUrlText, freshCloudStackDb } from '../support/database.js';

describe('csdrift audit refuses bad input with one line and exit 3', () => {
  let dir: string;
  let database: ThrowawayDatabase;
  const server = TEST_DB_SERVER.replace(/\/[^/]*$/, '');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'csdrift-cli-'));
    database = await freshCloudStackDb('4.19');
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function config(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it.each([
    ['a malformed --db', ['--db', 'not a url'], /--db: not a URL/],
    [
      'a --db that is not mysql',
      ['--db', 'postgres://u@127.0.0.1/cloud'],
      /--db: scheme "postgres" is not mysql/,
    ],
    [
      'an unreachable database',
      ['--db', 'mysql://root@127.0.0.1:1/cloud'],
      /cannot reach the CloudStack database at 127\.0\.0\.1:1: ECONNREFUSED/,
    ],
    [
      'a database that does not exist',
      ['--db', `${server}/csdrift_no_such_db`],
      /database "csdrift_no_such_db" does not exist/,
    ],
    [
      'a database without the CloudStack schema',
      ['--db', `${server}/mysql`],
      /database "mysql" is not a CloudStack 4\.19\+ management database: no table object_store, object_store_details, bucket, account, domain, projects/,
    ],
    ['an unknown flag', ['--frobnicate'], /unknown option '--frobnicate'/],
    [
      'a mistyped flag',
      ['--fromat', 'json'],
      /^csdrift: unknown option '--fromat' \(Did you mean --format\?\)$/m,
    ],
    ['an unknown rule', ['--rule', 'bucket-gone'], /--rule bucket-gone: unknown rule/],
    ['a bad --fail-on', ['--fail-on', 'severe'], /--fail-on <severity>' argument 'severe' is invalid/],
    ['a missing --db', [], /--db: required/],
  ])('%s', async (_label, args, message) => {
    const run = await csdrift(['audit', '--quiet', '--out', join(dir, 'out'), ...args], {
      CSDRIFT_DB_URL: '',
    });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it.each([
    [
      'stores.abc.endpoint: expected an http(s) URL',
      'bad-url.yaml',
      'stores:\n  abc:\n    endpoint: not-a-url\n',
    ],
    ['(top level): unknown key "gracePeriod"', 'typo.yaml', 'gracePeriod: 5\n'],
    [
      'rules.bucket-stuck-allocated.severity:',
      'severity.json',
      '{"rules": {"bucket-stuck-allocated": {"severity": "urgent"}}}',
    ],
    ['not valid YAML', 'broken.yaml', 'stores: [\n'],
    [
      'suppressions.0.reason:',
      'suppression.yaml',
      'suppressions:\n  - { rule: store-unverified, store: s, bucket: b, owner: me, expires: 2027-01-01 }\n',
    ],
  ])('a config whose mistake is named by path: %s', async (message, name, text) => {
    const run = await csdrift([
      'audit',
      '--quiet',
      '--db',
      dbUrlText(database.db),
      '--config',
      await config(name, text),
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });

  it('a corrupt ledger is named on one line, exit 3, and left as it was', async () => {
    const out = await mkdtemp(join(dir, 'state-'));
    const file = join(out, 'state', 'ledger.json');
    const audit = () => csdrift(['audit', '--quiet', '--db', dbUrlText(database.db), '--out', out]);
    expect((await audit()).code).toBe(0); // an empty cloud: in sync, the state written
    await writeFile(file, '{"schemaVersion": 1, "findings": 7}');

    const run = await audit();

    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(file);
    expect(run.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
    expect(await readFile(file, 'utf8')).toBe('{"schemaVersion": 1, "findings": 7}');
  });

  it('a corrupt run history does not stop the audit: one warning naming it, the file left as it was', async () => {
    // The history only feeds the trend: no verdict depends on it (README, "The run history").
    const out = await mkdtemp(join(dir, 'state-'));
    const file = join(out, 'state', 'history.json');
    const audit = () => csdrift(['audit', '--quiet', '--db', dbUrlText(database.db), '--out', out]);
    expect((await audit()).code).toBe(0);
    await writeFile(file, 'not json at all');

    const run = await audit();

    expect(run.code).toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^csdrift: warning: run history not updated: /);
    expect(lines[0]).toContain(file);
    expect(await readFile(file, 'utf8')).toBe('not json at all');
  });

  it('a corrupt event cursor stops csdrift watch at start with one line naming it, exit 3', async () => {
    const out = await mkdtemp(join(dir, 'watch-'));
    await mkdir(join(out, 'watch-state'), { recursive: true });
    await writeFile(join(out, 'watch-state', 'event-cursor.json'), '{"lastId": "many"}');
    const path = await config(
      'watch-poll.yaml',
      'watch: { listen: "127.0.0.1:0", cloudstack: { pollEventsSeconds: 60 } }\n',
    );

    const run = await csdrift(['watch', '--db', dbUrlText(database.db), '--config', path, '--out', out]);

    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('event-cursor.json');
    expect(run.stderr).not.toMatch(/unexpected error/);
  });

  it('a mistyped command is named with the one meant, on one line', async () => {
    const run = await csdrift(['audti']);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe("csdrift: unknown command 'audti' (Did you mean audit?)\n");
  });

  it('a config store that matches no store is named', async () => {
    const path = await config('unknown-store.yaml', 'stores:\n  minio-9:\n    skip: true\n');
    const run = await csdrift(['audit', '--quiet', '--db', dbUrlText(database.db), '--config', path]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/stores\.minio-9: no store with that uuid, name or id/);
  });

  it('a CloudStack database of an unknown shape is named', async () => {
    const odd = await freshCloudStackDb('4.19');
    await odd.conn.query('ALTER TABLE object_store DROP COLUMN used_bytes');
    const run = await csdrift(['audit', '--quiet', '--db', dbUrlText(odd.db)]);
    await odd.drop();
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /object_store has neither used_bytes \(4\.19\/4\.20\) nor used_size and allocated_size \(4\.21\+\)/,
    );
  });

  it('an unknown --store is named, with the stores there are', async () => {
    const run = await csdrift(['audit', '--quiet', '--db', dbUrlText(database.db), '--store', 'nope']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/--store nope: no such store \(known: none\)/);
  });

  it('an empty CloudStack is in sync (exit 0), and writes nothing to stdout with --json but the report', async () => {
    const run = await csdrift([
      'audit',
      '--json',
      '--db',
      dbUrlText(database.db),
      '--out',
      join(dir, 'empty'),
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ schemaVersion: 1, status: 'in_sync', findings: [] });
  });
});
