// Targeted audits (--bucket) against a live RGW: only the named buckets' rows are read and only they
// are asked about, whatever the size of the cloud; a scoped run changes nothing outside its scope.
import { describe, expect, inject, it } from 'vitest';
import type { Ledger } from '../../functions/core/ledger.js';
import type { Report } from '../../functions/core/report.js';
import { auditWithLedger, found } from '../support/audit.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';
import { expectValidReport } from '../support/report-schema.js';

const ceph = inject('ceph');

describe('targeted audits of a live Ceph RGW', () => {
  const ctx = cephCloudPerTest('4.21');

  /** A cloud of `others` buckets in sync, plus the named ones. */
  async function cloudWith(others: number) {
    // The plain admin: S3 HeadBucket answers it 403 for another user's bucket, which is no answer.
    const store = await ctx.cloud.store('ceph-1', ceph.plainAdmin);
    const alice = await ctx.cloud.account('alice');
    for (let i = 0; i < others; i++) await ctx.cloud.bucket(bucketName(`other${i}`), store, alice);
    const names = {
      inSync: bucketName('photos'),
      missing: bucketName('gone'),
      unmanaged: bucketName('rogue'),
      outOfScope: bucketName('elsewhere'),
    };
    await ctx.cloud.bucket(names.inSync, store, alice);
    await ctx.cloud.bucketDeletedInStore(names.missing, store, alice);
    await ctx.cloud.createInStore(names.unmanaged, alice.keys);
    await ctx.cloud.bucketDeletedInStore(names.outOfScope, store, alice);
    return { store, alice, names };
  }

  const targeted = (names: string[], previousLedger: Ledger | null = null) =>
    auditWithLedger(ctx.cloud.database, {}, { buckets: names, previousLedger });

  it('finds the drift of the named buckets only, reading only their rows and asking only about them', async () => {
    // Prepare
    const { names } = await cloudWith(12);

    // Act
    const { report } = await targeted([names.inSync, names.missing, names.unmanaged]);

    // Assert
    expect(found(report)).toEqual(
      [`bucket-missing-in-store ${names.missing}`, `bucket-unmanaged-in-store ${names.unmanaged}`].sort(),
    );
    expect(report.scope).toEqual({
      stores: [],
      rules: [],
      buckets: [names.inSync, names.missing, names.unmanaged],
    });
    const [coverage] = report.coverage;
    expect(coverage?.status).toBe('verified');
    expect(coverage?.checks['store-accounting-drift']).toBeUndefined(); // a store-level rule: out of scope
    expect(coverage?.checks['bucket-missing-in-store']).toBe('verified');
    // Two rows (the missing one is read again before it is reported), not the cloud's fifteen.
    expect(report.cloudstack.bucketRowsRead).toBeLessThanOrEqual(3);
    expectValidReport(report);
  });

  it('asks the store about the named bucket only, in a cloud of 24 buckets', async () => {
    // Prepare
    const { names } = await cloudWith(20);

    // Act
    const big = await targeted([names.missing]);
    const full = await auditWithLedger(ctx.cloud.database);

    // Assert
    const requests = (r: Report) => r.coverage[0]?.evidence?.requests ?? NaN;
    expect(found(big.report)).toEqual([`bucket-missing-in-store ${names.missing}`]);
    // One admin lookup and one confirming HeadBucket; the full audit pays per bucket for attributes.
    expect(requests(big.report)).toBeLessThanOrEqual(3);
    expect(requests(full.report)).toBeGreaterThan(20);
  });

  it('leaves findings outside its scope alone, and resolves only its own', async () => {
    // Prepare: a full audit records both missing buckets
    const { alice, names } = await cloudWith(0);
    const full = await auditWithLedger(ctx.cloud.database);
    expect(found(full.report)).toContain(`bucket-missing-in-store ${names.outOfScope}`);
    // The operator re-creates one of them in the store
    await ctx.cloud.createInStore(names.missing, alice.keys);

    // Act
    const { report, ledger } = await targeted([names.missing], full.ledger);

    // Assert
    expect(report.resolved.map((r) => r.bucket)).toEqual([names.missing]);
    const outside = Object.values(ledger.entries).filter((e) => e.bucket !== names.missing);
    const before = Object.values(full.ledger.entries).filter((e) => e.bucket !== names.missing);
    expect(outside).toEqual(before); // not resolved, not re-dated
  });

  it('a store that will not answer about a bucket is unverified, never "missing"', async () => {
    // Prepare: the store's "admin" keys are a plain user's, refused by the admin API
    const alice = await ctx.cloud.account('alice');
    const store = await ctx.cloud.store('ceph-1', alice.keys);
    const gone = bucketName('gone');
    await ctx.cloud.bucketDeletedInStore(gone, store, alice);

    // Act
    const { report } = await targeted([gone]);

    // Assert
    expect(found(report)).toEqual(['store-unverified -']);
    expect(report.status).toBe('incomplete');
  });

  it('csdrift audit --bucket runs it from the command line, and a bad name is one line, exit 3', async () => {
    // Prepare
    const { names } = await cloudWith(2);
    const db = dbUrlText(ctx.cloud.database.db);

    // Act
    const run = await csdrift([
      'audit',
      '--db',
      db,
      '--bucket',
      names.missing,
      '--json',
      '--out',
      ctx.dir,
      '--no-notify',
    ]);
    const bad = await csdrift(['audit', '--db', db, '--bucket', 'a/b', '--out', ctx.dir]);

    // Assert
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(found(report)).toEqual([`bucket-missing-in-store ${names.missing}`]);
    expect(report.scope.buckets).toEqual([names.missing]);
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'csdrift: --bucket a/b: holds "/": no store has such a bucket',
    ]);
  });
});
