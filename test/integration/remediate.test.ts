import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { CloudStackApi } from '../../functions/cloudstack/api-client.js';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { CloudStackStandIn } from '../support/cloudstack-standin.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import type { PerTest } from '../support/per-test.js';

const ceph = inject('ceph');
const API_KEYS = { apiKey: 'csdrift-admin-apikey', secretKey: 'csdrift-admin-secretkey-0000' };

/** csdrift audit --json and csdrift remediate as a user runs them, on one test's database, folder and config. */
function cliFor(ctx: PerTest, config: () => string) {
  const db = () => dbUrlText(ctx.cloud.database.db);
  const common = () => ['--db', db(), '--out', ctx.dir, '--config', config()];
  return {
    audit: async (...extra: string[]) =>
      JSON.parse((await csdrift(['audit', '--quiet', '--json', ...common(), ...extra])).stdout) as Report,
    remediate: (id: string, ...extra: string[]) =>
      csdrift(['remediate', '--finding', id, ...common(), ...extra]),
  };
}

describe('csdrift remediate on the seed case (a bucket deleted behind CloudStack’s back)', () => {
  const ctx = cephCloudPerTest('4.21');
  let cloudstack: CloudStackStandIn;
  let gone: string;
  let bucketId: number;
  let config: string;

  beforeEach(async () => {
    cloudstack = await new CloudStackStandIn(API_KEYS, ctx.cloud.database.conn, ceph.conf).start();
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    gone = bucketName('photos');
    ({ id: bucketId } = await ctx.cloud.bucketDeletedInStore(gone, store, alice));
    config = join(ctx.dir, 'config.yaml');
    await writeConfig(true);
  });
  afterEach(() => cloudstack.stop());

  async function writeConfig(remediate: boolean) {
    await writeFile(
      config,
      `rules:\n  bucket-missing-in-store: { remediate: ${remediate} }\ncloudstack: { apiUrl: "${cloudstack.apiUrl}", apiKey: ${API_KEYS.apiKey}, secretKey: ${API_KEYS.secretKey} }\n`,
    );
  }
  const { audit, remediate: remediateCli } = cliFor(ctx, () => config);
  const rowRemoved = async () => {
    const [rows] = await ctx.cloud.database.conn.query<RowDataPacket[]>(
      'SELECT removed FROM bucket WHERE id = ?',
      [bucketId],
    );
    return rows[0]?.removed !== null;
  };

  it('CloudStack alone cannot delete it: deleteBucket fails while the store lacks the bucket', async () => {
    const api = new CloudStackApi({ apiUrl: cloudstack.apiUrl, ...API_KEYS, pollMs: 10 });
    const [rows] = await ctx.cloud.database.conn.query<RowDataPacket[]>(
      'SELECT uuid FROM bucket WHERE id = ?',
      [bucketId],
    );
    await expect(api.callAsync('deleteBucket', { id: rows[0]?.uuid })).rejects.toThrow(
      `Bucket doesn't exist: ${gone}`,
    );
    expect(cloudstack.calls.every((c) => c.signatureValid)).toBe(true);
  });

  it('without --apply prints the plan and changes nothing', async () => {
    await audit();
    const id = (await audit()).findings[0]?.id as string;

    const run = await remediateCli(id);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Plan \(nothing changed; add --apply to carry it out\) for bucket-missing-in-store/,
    );
    expect(run.stdout).toMatch(/1\. \[planned\] re-create an empty bucket .* with the owner keys/);
    expect(run.stdout).toMatch(/2\. \[planned\] call CloudStack deleteBucket id=/);
    expect(await rowRemoved()).toBe(false);
    expect(cloudstack.calls).toEqual([]);
    // A plan is written beside the runs; it is no action on the finding.
    const [plan] = await readdir(join(ctx.dir, 'remediations'));
    const written = JSON.parse(await readFile(join(ctx.dir, 'remediations', plan as string), 'utf8'));
    expect(written).toMatchObject({ findingId: id, applied: false, by: 'cli' });
    const ledger = JSON.parse(await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8'));
    expect(ledger.entries[id].actions).toBeUndefined();
  });

  it('plans without the opt-in (a plan changes nothing), and says how to allow --apply', async () => {
    await audit();
    const id = (await audit()).findings[0]?.id as string;
    await writeConfig(false);

    const run = await remediateCli(id);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Plan \(nothing changed; add --apply to carry it out\)/);
    expect(run.stdout).toContain(
      'To carry it out, allow it first: rules.bucket-missing-in-store.remediate: true in the config, then --apply.',
    );
    expect(await rowRemoved()).toBe(false);
    expect(cloudstack.calls).toEqual([]);
  });

  it('with --apply re-creates the bucket, deletes it through CloudStack, verifies, and the next audit resolves it', async () => {
    await audit();
    const id = (await audit()).findings[0]?.id as string;

    const run = await remediateCli(id, '--apply');
    const after = await audit();

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Remediation for bucket-missing-in-store/);
    expect(run.stdout.match(/\[done\]/g)).toHaveLength(4);
    expect(await rowRemoved()).toBe(true);
    expect(cloudstack.calls.map((c) => [c.command, c.signatureValid])).toContainEqual(['deleteBucket', true]);
    expect(after.findings).toEqual([]);
    expect(after.resolved.map((r) => r.id)).toEqual([id]);
    const records = await readdir(join(ctx.dir, 'remediations'));
    expect(records).toHaveLength(1);
    const ledger = JSON.parse(await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8'));
    expect(ledger.entries[id].actions).toMatchObject([{ by: 'cli', action: 'fix', outcome: 'done' }]);
    expect(run.stdout + run.stderr).not.toContain(API_KEYS.secretKey);
  });

  it.each([
    ['before any audit', 0, async () => {}, /not in the ledger: run csdrift audit first/],
    [
      'after one audit only',
      1,
      async () => {},
      /seen on 1 run\(s\); it must be confirmed on two consecutive runs first/,
    ],
    [
      'when the rule does not allow it',
      2,
      async (t: { writeConfig: (on: boolean) => Promise<void> }) => t.writeConfig(false),
      /remediation is off for bucket-missing-in-store/,
    ],
  ])('refuses %s, and changes nothing', async (_label, audits, prepare, message) => {
    let id = 'f'.repeat(32);
    for (let i = 0; i < audits; i++) id = (await audit()).findings[0]?.id ?? id;
    await prepare({ writeConfig });

    const run = await remediateCli(id, '--apply');

    expect(run.code).toBe(3);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(await rowRemoved()).toBe(false);
    expect(cloudstack.calls).toEqual([]);
    // The attempt is on the finding's trail, when the ledger has the finding.
    if (audits) {
      const ledger = JSON.parse(await readFile(join(ctx.dir, 'state', 'ledger.json'), 'utf8'));
      expect(ledger.entries[id].actions).toMatchObject([{ by: 'cli', action: 'fix', outcome: 'refused' }]);
    }
  });

  it('judges a finding by the last run that covered it: event runs of other buckets leave it current', async () => {
    // Prepare: two full runs saw it; then targeted runs of another bucket and of another rule
    await audit();
    const id = (await audit()).findings[0]?.id as string;
    await audit('--bucket', bucketName('elsewhere'));
    await audit('--rule', 'bucket-stuck-allocated');

    // Act
    const run = await remediateCli(id, '--apply');

    // Assert
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await rowRemoved()).toBe(true);
    // The current view was rewritten after the remediation wrote the ledger.
    const current = JSON.parse(await readFile(join(ctx.dir, 'current', 'report.json'), 'utf8'));
    expect(current.kind).toBe('current');
    expect(current.findings[0]?.id).toBe(id);
  });

  it('refuses when the store is not verified now', async () => {
    await audit();
    const id = (await audit()).findings[0]?.id as string;
    await ctx.cloud.database.conn.query("UPDATE object_store SET url = 'http://127.0.0.1:1'");

    const run = await remediateCli(id, '--apply');

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/store ceph-1 is not verified now \(unreachable/);
    expect(await rowRemoved()).toBe(false);
    expect(cloudstack.calls).toEqual([]);
  });
});

describe('csdrift remediate on attribute drift: re-apply CloudStack’s value through updateBucket', () => {
  const ctx = cephCloudPerTest('4.21');
  let cloudstack: CloudStackStandIn;
  let config: string;
  const { audit, remediate } = cliFor(ctx, () => config);

  beforeEach(async () => {
    cloudstack = await new CloudStackStandIn(
      API_KEYS,
      ctx.cloud.database.conn,
      ceph.conf,
      ceph.endpoint,
    ).start();
    config = join(ctx.dir, 'config.yaml');
    await writeFile(
      config,
      `rules:\n  bucket-versioning-mismatch: { remediate: true }\n  bucket-quota-mismatch: { remediate: true }\ncloudstack: { apiUrl: "${cloudstack.apiUrl}", apiKey: ${API_KEYS.apiKey}, secretKey: ${API_KEYS.secretKey} }\n`,
    );
  });
  afterEach(() => cloudstack.stop());

  it('with --apply calls updateBucket with the recorded value, verifies with a fresh audit, and the next audit resolves it', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const name = bucketName('versioned');
    await ctx.cloud.bucket(name, store, alice, { versioning: true }); // switched off behind CloudStack's back
    await audit();
    const finding = (await audit()).findings.find((f) => f.rule === 'bucket-versioning-mismatch');
    const id = finding?.id as string;

    const plan = await remediate(id);
    const run = await remediate(id, '--apply');
    const after = await audit();

    expect(plan.stdout).toMatch(/1\. \[planned\] call CloudStack updateBucket id=\S+ versioning=true/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1\. \[done\] .*updateBucket .* - CloudStack re-applied versioning=true/);
    expect(run.stdout).toMatch(
      /2\. \[done\] verify with a fresh audit .* - a fresh audit no longer finds it/,
    );
    expect(cloudstack.calls.filter((c) => c.command === 'updateBucket')).toEqual([
      { command: 'updateBucket', signatureValid: true },
    ]);
    expect(after.findings).toEqual([]);
    expect(after.resolved.map((r) => r.id)).toEqual([id]);
  });

  it("refuses quota drift on Ceph, where updateBucket would repeat the driver's bug", async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    await ctx.cloud.bucket(bucketName('quota'), store, alice, { quota: 5 });
    await audit();
    const id = (await audit()).findings.find((f) => f.rule === 'bucket-quota-mismatch')?.id as string;

    const run = await remediate(id, '--apply');

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/refused: updateBucket would repeat the Ceph driver's quota bug/);
    expect(cloudstack.calls).toEqual([]);
  });
});
