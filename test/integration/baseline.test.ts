import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

describe('csdrift baseline', () => {
  const ctx = cephCloudPerTest('4.19');

  it("writes today's findings as suppressions to fill in, which then suppress them", async () => {
    // Prepare
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const rogue = bucketName('rogue');
    const gone = bucketName('gone');
    await ctx.cloud.createInStore(rogue, alice.keys);
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);
    const db = dbUrlText(ctx.cloud.database.db);
    const file = join(ctx.dir, 'baseline.yaml');

    // Act
    const baseline = await csdrift(['baseline', '--quiet', '--db', db, '--write', file]);
    const unfilled = await csdrift(['audit', '--quiet', '--db', db, '--out', ctx.dir, '--config', file]);
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text
        .replaceAll('reason: ""', 'reason: accepted for the migration')
        .replaceAll('owner: ""', 'owner: storage-team'),
    );
    const filled = await csdrift([
      'audit',
      '--quiet',
      '--json',
      '--db',
      db,
      '--out',
      ctx.dir,
      '--config',
      file,
    ]);
    const again = await csdrift(['baseline', '--db', db, '--write', file]);

    // Assert
    expect(baseline.code).toBe(0);
    expect(text).toMatch(/^# csdrift baseline of run .*Fill in reason/s);
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    expect((parse(text) as { suppressions: unknown[] }).suppressions).toEqual([
      { rule: 'bucket-missing-in-store', store: 'ceph-1', bucket: gone, reason: '', owner: '', expires },
      { rule: 'bucket-unmanaged-in-store', store: 'ceph-1', bucket: rogue, reason: '', owner: '', expires },
    ]);
    expect(unfilled.code).toBe(3);
    expect(unfilled.stderr).toMatch(/suppressions\.0\.reason: required: say why this finding is accepted/);
    expect(filled.code).toBe(0);
    expect((JSON.parse(filled.stdout) as Report).findings.map((f) => f.status)).toEqual([
      'suppressed',
      'suppressed',
    ]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/--write .*baseline\.yaml: exists already/);
    expect(again.stderr).not.toMatch(/ceph-1/); // refused before any scan: no progress line
    expect(await readFile(file, 'utf8')).toContain('owner: storage-team');
  });

  it('takes only its own flags', async () => {
    const run = await csdrift(['baseline', '--format', 'json', '--write', join(ctx.dir, 'b.yaml')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/unknown option '--format'/);
  });
});
