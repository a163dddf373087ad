// bucket-billed-after-removal on a real MariaDB with CloudStack's DDL and a live RGW: the usage
// server bills every bucket_statistics row above 0 (apache/cloudstack#13057), so a bucket deleted in
// CloudStack whose statistics kept their size is billed for ever. A user without SELECT on the table
// (an older grant) is told, and the run is not made incomplete by it.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hoursAgo } from '../../functions/demo/cloudstack-seed.js';
import { audit, found } from '../support/audit.js';
import { changeLine } from '../../functions/core/notifications.js';
import { bucketName } from '../support/cloud.js';
import { cephCloudPerTest } from '../support/per-test.js';

describe('bucket-billed-after-removal', () => {
  const ctx = cephCloudPerTest('4.21');

  async function plant() {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const names = {
      ghost: bucketName('ghost'),
      zero: bucketName('zero'),
      live: bucketName('live'),
      again: bucketName('again'),
    };
    // Deleted in CloudStack (and in the store), its statistics left at 5 MiB: billed every period.
    const ghost = await ctx.cloud.seed.bucket({
      name: names.ghost,
      store,
      account: alice,
      removed: hoursAgo(30),
    });
    await ctx.cloud.seed.bucketStatistics(ghost, alice, 5 * 1024 ** 2);
    // Deleted with its statistics at 0: billed nothing.
    const zero = await ctx.cloud.seed.bucket({
      name: names.zero,
      store,
      account: alice,
      removed: hoursAgo(30),
    });
    await ctx.cloud.seed.bucketStatistics(zero, alice, 0);
    // In use and billed: as it should be.
    const live = await ctx.cloud.bucket(names.live, store, alice);
    await ctx.cloud.seed.bucketStatistics(live, alice, 3 * 1024 ** 2);
    // Deleted and created again under the same name: a bucket with that name exists (the contract's rule: every row removed).
    const old = await ctx.cloud.seed.bucket({
      name: names.again,
      store,
      account: alice,
      removed: hoursAgo(40),
    });
    await ctx.cloud.seed.bucketStatistics(old, alice, 1024 ** 2);
    await ctx.cloud.bucket(names.again, store, alice);
    return { names, ghost, alice, store };
  }

  it('reports the removed bucket that is still billed, with the bytes billed each period and the reset', async () => {
    const { names, ghost } = await plant();

    const report = await audit(ctx.cloud.database);

    expect(found(report)).toEqual([`bucket-billed-after-removal ${names.ghost}`]);
    const finding = report.findings[0];
    expect(finding).toMatchObject({
      severity: 'medium',
      billedButGoneBytes: 5 * 1024 ** 2,
      owner: { accountName: 'alice' },
      evidence: { billedBytesPerPeriod: 5 * 1024 ** 2, rows: [{ id: ghost.id, billedBytes: 5 * 1024 ** 2 }] },
    });
    expect(finding?.remediation.steps.join('\n')).toContain(
      `\`UPDATE bucket_statistics SET size = 0 WHERE bucket_id IN (${ghost.id});\``,
    );
    expect(report.coverage[0]?.checks['bucket-billed-after-removal']).toBe('verified');
    expect(report.status).toBe('drift');
  });

  it('counts what is billed for buckets that are gone, removed or missing from the store, in the summary and its money', async () => {
    const { names, store } = await plant();
    const bob = await ctx.cloud.account('bob');
    // The seed case, billed: the usage task no longer updates a bucket the store does not report.
    const missing = bucketName('missing');
    const row = await ctx.cloud.bucketDeletedInStore(missing, store, bob, { created: hoursAgo(5) });
    await ctx.cloud.seed.bucketStatistics(row, bob, 3 * 1024 ** 3);

    const report = await audit(ctx.cloud.database, { pricing: { perGiBMonth: 2, currency: 'EUR' } });

    expect(found(report)).toEqual(
      [`bucket-billed-after-removal ${names.ghost}`, `bucket-missing-in-store ${missing}`].sort(),
    );
    const gone = report.findings.find((f) => f.bucket === missing);
    expect(gone?.billedButGoneBytes).toBe(3 * 1024 ** 3);
    expect(gone?.message).toContain('CloudStack still bills 3.00 GiB for it every usage period.');
    expect(report.summary.bytes.billedButGone).toBe(3 * 1024 ** 3 + 5 * 1024 ** 2);
    expect(report.summary.monthlyCost).toMatchObject({ billedButGone: 6.01, currency: 'EUR' });
    expect(changeLine(report)).toContain('3.00 GiB billed for buckets that are gone (6.01 EUR a month)');
  });

  it('a user who may not read bucket_statistics: not applicable, said why, and the run is not incomplete for it', async () => {
    const { names } = await plant();
    const conn = ctx.cloud.database.conn;
    const user = `csdrift_ro_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const database = ctx.cloud.database.db.database;
    await conn.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
    try {
      for (const table of [
        'object_store',
        'object_store_details',
        'bucket',
        'account',
        'domain',
        'projects',
        'account_details',
      ])
        await conn.query(`GRANT SELECT ON \`${database}\`.\`${table}\` TO ?@'%'`, [user]);
      const report = await audit({ ...ctx.cloud.database, db: { ...ctx.cloud.database.db, user, password } });

      expect(found(report)).not.toContain(`bucket-billed-after-removal ${names.ghost}`);
      expect(report.coverage[0]?.checks['bucket-billed-after-removal']).toBe('not_applicable');
      expect(report.coverage[0]?.evidence.checkNotes?.['bucket-billed-after-removal']).toContain(
        'GRANT SELECT ON cloud.bucket_statistics',
      );
      expect(report.status).toBe('in_sync');
    } finally {
      await conn.query(`DROP USER ?@'%'`, [user]);
    }
  });

  it("with usageDb: the usage already recorded since the removal, from the usage server's own table; an unreadable one is said", async () => {
    const { names, ghost } = await plant();
    const conn = ctx.cloud.database.conn;
    const usageDb = `csdrift_usage_${randomBytes(4).toString('hex')}`;
    // cloud_usage.cloud_usage as setup/db/create-schema-premium.sql creates it.
    await conn.query(`CREATE DATABASE \`${usageDb}\``);
    try {
      await conn.query(`CREATE TABLE \`${usageDb}\`.\`cloud_usage\` (
        \`id\` bigint unsigned NOT NULL auto_increment,
        \`zone_id\` bigint unsigned NOT NULL,
        \`account_id\` bigint unsigned NOT NULL,
        \`domain_id\` bigint unsigned NOT NULL,
        \`description\` varchar(1024) NOT NULL,
        \`usage_display\` varchar(255) NOT NULL,
        \`usage_type\` int(1) unsigned,
        \`raw_usage\` DOUBLE UNSIGNED NOT NULL,
        \`vm_instance_id\` bigint unsigned,
        \`vm_name\` varchar(255),
        \`offering_id\` bigint unsigned,
        \`template_id\` bigint unsigned,
        \`usage_id\` bigint unsigned,
        \`type\` varchar(32),
        \`size\` bigint unsigned,
        \`network_id\` bigint unsigned,
        \`start_date\` DATETIME NOT NULL,
        \`end_date\` DATETIME NOT NULL,
        PRIMARY KEY (\`id\`)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8`);
      // As BucketUsageParser saves them: "Bucket Size", type 29, the bucket id, the bytes as raw usage.
      const hour = (h: number) => hoursAgo(h).toISOString().slice(0, 19).replace('T', ' ');
      const record = (usageId: number, type: number, from: number) =>
        conn.query(
          `INSERT INTO \`${usageDb}\`.cloud_usage (zone_id, account_id, domain_id, description, usage_display, usage_type, raw_usage, usage_id, start_date, end_date)
           VALUES (1, 1, 1, 'Bucket Size', '5242880 bytes', ?, 5242880, ?, ?, ?)`,
          [type, usageId, hour(from), hour(from - 1)],
        );
      for (const h of [3, 2, 1]) await record(ghost.id, 29, h); // after its removal, 30 hours ago
      await record(ghost.id, 29, 40); // before it: billed rightly
      await record(ghost.id, 6, 2); // another usage type (a volume) with the same id
      const { host, port, user, password } = ctx.cloud.database.db;
      const url = `mysql://${user}:${encodeURIComponent(password)}@${host}:${port}/${usageDb}`;

      const report = await audit(ctx.cloud.database, { usageDb: { url } });

      const finding = report.findings.find((f) => f.bucket === names.ghost);
      expect(finding?.evidence.usageSinceRemoval).toMatchObject({ records: 3, bytes: 3 * 5242880 });
      expect(finding?.message).toContain(
        'The usage server has already recorded 3 usage period(s) for it since then',
      );
      expect(finding?.remediation.steps.join('\n')).toContain('(3 period(s), 15.0 MiB billed in all)');

      const unreadable = await audit(ctx.cloud.database, {
        usageDb: {
          url: `mysql://${user}:${encodeURIComponent(password)}@${host}:${port}/csdrift_no_such_usage_db`,
        },
      });
      const still = unreadable.findings.find((f) => f.bucket === names.ghost);
      expect(still?.evidence.usageSinceRemoval).toEqual({
        unreadable: expect.stringContaining('could not be read'),
      });
      expect(JSON.stringify(unreadable)).not.toContain(password || 'no-password-to-leak');
    } finally {
      await conn.query(`DROP DATABASE IF EXISTS \`${usageDb}\``);
    }
  });
});
