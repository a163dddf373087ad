import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { wipeBuckets } from '../support/ceph.js';
import { csdrift } from '../support/cli.js';
import { CephCloud, bucketName } from '../support/cloud.js';
import { dbUrlText, freshCloudStackDb } from '../support/database.js';

const ceph = inject('ceph');

describe('csdrift baseline', () => {
  let cloud: CephCloud;
  let dir: string;

  beforeEach(async () => {
    await wipeBuckets(ceph.conf);
    cloud = new CephCloud(ceph, await freshCloudStackDb('4.19'));
    dir = await mkdtemp(join(tmpdir(), 'csdrift-baseline-'));
  });
  afterEach(async () => {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes today's findings as suppressions to fill in, which then suppress them", async () => {
    // Prepare
    const store = await cloud.store('ceph-1');
    const alice = await cloud.account('alice');
    const rogue = bucketName('rogue');
    const gone = bucketName('gone');
    await cloud.createInStore(rogue, alice.keys);
    await cloud.bucket(gone, store, alice);
    await cloud.deleteInStore(gone, alice.keys);
    const db = dbUrlText(cloud.database.db);
    const file = join(dir, 'baseline.yaml');

    // Act
    const baseline = await csdrift(['baseline', '--quiet', '--db', db, '--write', file]);
    const unfilled = await csdrift(['audit', '--quiet', '--db', db, '--out', dir, '--config', file]);
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text
        .replaceAll('reason: ""', 'reason: accepted for the migration')
        .replaceAll('owner: ""', 'owner: storage-team'),
    );
    const filled = await csdrift(['audit', '--quiet', '--json', '--db', db, '--out', dir, '--config', file]);
    const again = await csdrift(['baseline', '--quiet', '--db', db, '--write', file]);

    // Assert
    expect(baseline.code).toBe(0);
    expect(text).toMatch(/^# csdrift baseline of run .*Fill in reason/s);
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    expect((parse(text) as { suppressions: unknown[] }).suppressions).toEqual([
      { rule: 'bucket-missing-in-store', store: store.uuid, bucket: gone, reason: '', owner: '', expires },
      { rule: 'bucket-unmanaged-in-store', store: store.uuid, bucket: rogue, reason: '', owner: '', expires },
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
    expect(await readFile(file, 'utf8')).toContain('owner: storage-team');
  });
});
