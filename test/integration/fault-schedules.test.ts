// Many random fault schedules against one planted cloud: whatever the store does, the auditor never
// reports drift that is not there, never resolves what it could not verify, and leaks no secret.
// fast-check draws the schedules from a seed it prints on failure (replay: FAULT_SEED=<seed>).
import fc from 'fast-check';
import { PutBucketPolicyCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuditOutcome } from '../../functions/audit.js';
import type { Report } from '../../functions/core/report.js';
import { auditWithLedger } from '../support/audit.js';
import { wipeStore } from '../support/ceph.js';
import type { CephAccount } from '../support/cloud.js';
import { CephCloud, bucketName } from '../support/cloud.js';
import { freshCloudStackDb } from '../support/database.js';
import type { Fault } from '../support/fault-proxy.js';
import { FaultProxy, faults } from '../support/fault-proxy.js';

const ceph = inject('ceph');
const SCHEDULES = Number(process.env.FAULT_SCHEDULES ?? 200);
const TIMEOUT_MS = 400;
const SCAN = { concurrency: 4, requestTimeoutMs: TIMEOUT_MS, maxAttempts: 2 };

const FAULTS: Fault[] = [
  faults.internalError,
  { kind: 'status', status: 502, code: 'BadGateway' },
  faults.slowDown,
  faults.accessDenied,
  faults.reset,
  faults.truncate,
  faults.hang,
  { kind: 'slow', ms: TIMEOUT_MS + 200 },
];

const fault = fc.oneof(
  { arbitrary: fc.constantFrom(...FAULTS), weight: FAULTS.length },
  { arbitrary: fc.nat(20).map((drop): Fault => ({ kind: 'shorten', drop })), weight: 2 },
);

/**
 * A schedule: per request in order, a fault or none. The first requests are the store's listing (its
 * users, then each user's buckets), the ones a false "missing" or "unmanaged" would come from: the
 * first is hit every other run; later ones about one in four.
 */
const schedules = fc
  .tuple(
    fc.option(fault, { nil: null, freq: 1 }),
    fc.array(fc.option(fault, { nil: null, freq: 3 }), { maxLength: 40 }),
  )
  .map(([listing, rest]) => [listing, ...rest]);

const LOUD = new Set(['bucket-missing-in-store', 'bucket-unmanaged-in-store']);

describe(`${SCHEDULES} random fault schedules in front of a live RGW`, () => {
  let cloud: CephCloud;
  let proxy: FaultProxy;
  let baseline: AuditOutcome;
  let owners: CephAccount[];

  beforeAll(async () => {
    await wipeStore(ceph.conf);
    cloud = new CephCloud(ceph, await freshCloudStackDb('4.21'));
    proxy = await new FaultProxy(ceph.endpoint).start();
    // A plain admin, so that refusals also exercise the owner-key fallback.
    const store = await cloud.store('ceph-faulty', ceph.plainAdmin, proxy.endpoint);
    const alice = await cloud.account('alice');
    const web = await cloud.project('web');
    owners = [alice, web];
    const versioned = bucketName('versioned');
    await cloud.bucket(versioned, store, alice, { versioning: true });
    await cloud
      .client(alice.keys)
      .send(
        new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }),
      );
    const open = bucketName('public');
    await cloud.bucket(open, store, web, { policy: 'public' });
    await cloud.client(web.keys).send(
      new PutBucketPolicyCommand({
        Bucket: open,
        Policy: JSON.stringify({
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: ['s3:GetObject', 's3:ListBucket'],
              Resource: [`arn:aws:s3:::${open}`, `arn:aws:s3:::${open}/*`],
            },
          ],
        }),
      }),
    );
    await cloud.bucket(bucketName('plain'), store, alice);
    await cloud.bucket(bucketName('switched'), store, web, { versioning: true }); // attribute drift
    await cloud.bucketDeletedInStore(bucketName('gone'), store, alice); // missing
    await cloud.createInStore(bucketName('rogue'), alice.keys); // unmanaged
    baseline = await auditWithLedger(cloud.database, { scan: SCAN });
  });

  afterAll(async () => {
    await proxy?.stop();
    await cloud?.close();
  });

  it('the fault-free baseline sees exactly the planted drift', () => {
    expect(baseline.report.status).toBe('drift');
    expect(baseline.report.findings.map((f) => f.rule).sort()).toEqual([
      'bucket-missing-in-store',
      'bucket-unmanaged-in-store',
      'bucket-versioning-mismatch',
    ]);
  });

  it('a listing that silently leaves out any one bucket neither invents nor resolves a finding', async () => {
    const listed = baseline.report.coverage[0]?.bucketsInStore ?? 0;
    expect(listed).toBeGreaterThan(1);
    // Each bucket left out in turn, with the direct check that follows answered, then throttled.
    for (const headFault of [null, faults.slowDown]) {
      for (let drop = 0; drop < listed; drop++) {
        // Every user's bucket listing leaves out its drop-th bucket (an empty one has none to lose).
        proxy.plan = (req) =>
          req.url?.startsWith('/admin/bucket?') && req.url.includes('uid=')
            ? { kind: 'shorten', drop }
            : req.method === 'HEAD'
              ? headFault
              : null;
        proxy.requests = [];
        const { report } = await auditWithLedger(
          cloud.database,
          { scan: SCAN },
          { previousLedger: baseline.ledger },
        );
        checkInvariants(report, new Set(baseline.report.findings.map((f) => f.id)), baseline.report);
        const label = `listing without its bucket #${drop}, HeadBucket ${headFault ? 'throttled' : 'answered'}`;
        expect(report.status, label).toBe('incomplete');
      }
    }
  });

  it('no false drift, no resolution without verification, no secret, whatever the store does', async () => {
    const known = new Set(baseline.report.findings.map((f) => f.id));
    const secrets = [
      ceph.plainAdmin.secretKey,
      ...owners.flatMap((o) => [o.keys.secretKey, o.keys.accessKey]),
    ];
    let incomplete = 0;
    await fc.assert(
      fc.asyncProperty(schedules, async (schedule) => {
        proxy.plan = (_req, index) => schedule[index] ?? null;
        proxy.requests = [];
        const { report, ledger } = await auditWithLedger(
          cloud.database,
          { scan: SCAN },
          { previousLedger: baseline.ledger },
        );
        if (report.status === 'incomplete') incomplete++;
        checkInvariants(report, known, baseline.report);
        const text = JSON.stringify({ report, ledger });
        for (const secret of secrets)
          expect(text.includes(secret), 'a secret in the report or ledger').toBe(false);
      }),
      {
        numRuns: SCHEDULES,
        ...(process.env.FAULT_SEED ? { seed: Number(process.env.FAULT_SEED) } : {}),
        endOnFailure: true,
      },
    );
    // The schedules must actually have hurt: most runs cannot be verified.
    expect(incomplete).toBeGreaterThanOrEqual(Math.floor(SCHEDULES / 4));
  }, 600_000);
});

function checkInvariants(report: Report, known: Set<string>, baseline: Report): void {
  const coverage = report.coverage[0];
  const drifted = report.findings.filter((f) => f.rule !== 'store-unverified');
  // Nothing that the fault-free audit did not see: above all, no missing or unmanaged bucket.
  for (const f of drifted) expect(known.has(f.id), `${f.rule} ${f.bucket}: not in the baseline`).toBe(true);
  expect(drifted.filter((f) => LOUD.has(f.rule)).every((f) => known.has(f.id))).toBe(true);
  // A store that was not fully read is store-unverified, and the run says incomplete.
  if (coverage?.status !== 'verified') {
    expect(report.findings.map((f) => f.rule)).toContain('store-unverified');
    expect(report.status).toBe('incomplete');
  }
  // A run that claims completeness saw exactly what the fault-free run saw.
  if (report.status !== 'incomplete') {
    expect(report.findings.map((f) => f.id).sort()).toEqual(baseline.findings.map((f) => f.id).sort());
  }
  // The store did not change: nothing may be resolved, least of all on an unverified check.
  expect(report.resolved).toEqual([]);
}
