import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import { evaluate } from '../../functions/core/evaluate.js';
import { findingId } from '../../functions/core/fingerprint.js';
import { bytesAtStake, exitCode, runStatus, summarise } from '../../functions/core/report.js';
import type { Report } from '../../functions/core/report.js';
import { RULES } from '../../functions/core/rules/index.js';
import { aBucket, aScan, absent, anInput, reportOf } from '../support/builders.js';

describe('evaluate', () => {
  it('fingerprints findings stably from rule, store uuid, bucket and attribute', () => {
    const first = evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') })));
    const again = evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') })));
    expect(first.findings[0]?.id).toBe(again.findings[0]?.id);
    expect(first.findings[0]?.id).toBe(findingId('bucket-missing-in-store', 'store-uuid-1', 'gone'));
    expect(findingId('r', 's', 'b')).not.toBe(findingId('r', 's', 'b', 'versioning'));
  });

  it('applies severity overrides and disabled rules from the config', () => {
    const config = parseAuditConfig({
      rules: {
        'bucket-unmanaged-in-store': { severity: 'critical' },
        'bucket-stuck-allocated': { enabled: false },
      },
    });
    const input = anInput([aBucket('half', { state: 'Allocated' })], aScan(['rogue']), { config });
    const { findings, coverage } = evaluate(input);
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([['bucket-unmanaged-in-store', 'critical']]);
    expect(coverage[0]?.checks).not.toHaveProperty('bucket-stuck-allocated');
  });

  it('runs only the rules asked for', () => {
    const input = anInput([aBucket('half', { state: 'Allocated' })], aScan(['rogue']), {
      rules: ['bucket-stuck-allocated'],
    });
    expect(evaluate(input).findings.map((f) => f.rule)).toEqual(['bucket-stuck-allocated']);
  });

  it('marks a finding suppressed by an exact, unexpired entry, and ignores an expired one', () => {
    const entry = {
      rule: 'bucket-unmanaged-in-store',
      store: 'minio-1',
      bucket: 'rogue',
      reason: 'legacy',
      owner: 'ops',
      expires: '2027-01-01',
    };
    const live = evaluate(
      anInput([], aScan(['rogue', 'rogue2']), { config: parseAuditConfig({ suppressions: [entry] }) }),
    );
    expect(live.findings.map((f) => [f.bucket, f.status])).toEqual([
      ['rogue', 'suppressed'],
      ['rogue2', 'new'],
    ]);
    expect(live.findings[0]?.evidence.suppression).toMatchObject({ reason: 'legacy', owner: 'ops' });
    const expired = evaluate(
      anInput([], aScan(['rogue']), {
        config: parseAuditConfig({ suppressions: [{ ...entry, expires: '2026-01-01' }] }),
      }),
    );
    expect(expired.findings[0]?.status).toBe('new');
  });

  it('orders findings by severity, then rule, store and bucket', () => {
    const rows = [aBucket('b-half', { state: 'Allocated' }), aBucket('a-gone')];
    const { findings } = evaluate(anInput(rows, aScan(['z-rogue'], { absenceChecks: absent('a-gone') })));
    expect(findings.map((f) => f.severity)).toEqual(['high', 'medium', 'low']);
  });
});

describe('report status and exit code', () => {
  const report = (input: ReturnType<typeof evaluate>): Report => ({
    schemaVersion: 1,
    runId: 'r',
    trigger: 'cli',
    scope: { stores: [], rules: [], buckets: [] },
    startedAt: '',
    finishedAt: '',
    status: runStatus(input.coverage, input.findings),
    cloudstack: { schema: '4.21', database: 'cloud', readAt: '' },
    coverage: input.coverage,
    summary: summarise(input.findings),
    findings: input.findings,
    resolved: [],
    pending: [],
    expiredSuppressions: [],
  });

  it('is 0 in sync, 1 on drift at or above --fail-on, 2 when incomplete whatever else was found', () => {
    const inSync = report(evaluate(anInput([], aScan([]))));
    const lowDrift = report(evaluate(anInput([aBucket('half', { state: 'Allocated' })], aScan([]))));
    const incomplete = report(
      evaluate(
        anInput(
          [aBucket('half', { state: 'Allocated' })],
          aScan([], { status: 'partial', listingComplete: false }),
        ),
      ),
    );
    expect([inSync.status, lowDrift.status, incomplete.status]).toEqual(['in_sync', 'drift', 'incomplete']);
    expect(exitCode(inSync, 'low')).toBe(0);
    expect(exitCode(lowDrift, 'low')).toBe(1);
    expect(exitCode(lowDrift, 'medium')).toBe(0);
    expect(exitCode(incomplete, 'critical')).toBe(2);
  });

  it('counts by severity and rule', () => {
    const r = report(evaluate(anInput([aBucket('half', { state: 'Allocated' })], aScan(['rogue']))));
    expect(r.summary).toEqual({
      findings: 2,
      new: 2,
      open: 0,
      resolved: 0,
      suppressed: 0,
      bySeverity: { medium: 1, low: 1 },
      byRule: { 'bucket-unmanaged-in-store': 1, 'bucket-stuck-allocated': 1 },
      bytes: { unbilled: 0, misbilled: 0, unknownSize: 1, billedButGone: 0 }, // the plain S3 listing tells no size
    });
  });
});

describe('suppressions', () => {
  const entry = {
    rule: 'bucket-unmanaged-in-store',
    store: 'minio-1',
    bucket: 'tmp-*',
    reason: 'scratch space',
    owner: 'ops',
    expires: '2027-01-01',
  };
  const statuses = (config: object, buckets: string[]) =>
    evaluate(anInput([], aScan(buckets), { config: parseAuditConfig(config) })).findings.map(
      (f) => `${f.bucket}:${f.status}`,
    );

  it('match exactly unless the entry says match: glob', () => {
    expect(statuses({ suppressions: [entry] }, ['tmp-1', 'tmp-*'])).toEqual([
      'tmp-*:suppressed',
      'tmp-1:new',
    ]);
    expect(statuses({ suppressions: [{ ...entry, match: 'glob' }] }, ['tmp-1', 'tmp-2', 'other'])).toEqual([
      'other:new',
      'tmp-1:suppressed',
      'tmp-2:suppressed',
    ]);
  });

  it('match the store by uuid as well as by name, and a store-level finding by bucket -', () => {
    const byUuid = { ...entry, store: 'store-uuid-1', bucket: 'tmp-1' };
    expect(statuses({ suppressions: [byUuid] }, ['tmp-1'])).toEqual(['tmp-1:suppressed']);
    const storeLevel = {
      rule: 'store-unverified',
      store: 'minio-1',
      bucket: '-',
      reason: 'r',
      owner: 'o',
      expires: '2027-01-01',
    };
    const input = anInput([], aScan([], { status: 'unreachable', listingComplete: false }), {
      config: parseAuditConfig({ suppressions: [storeLevel] }),
    });
    expect(evaluate(input).findings[0]?.status).toBe('suppressed');
  });

  it('never match another rule', () => {
    expect(
      statuses({ suppressions: [{ ...entry, rule: 'bucket-removed-but-present', bucket: 'tmp-1' }] }, [
        'tmp-1',
      ]),
    ).toEqual(['tmp-1:new']);
  });

  it('name a malformed entry by its place in the list', () => {
    expect(() => parseAuditConfig({ suppressions: [entry, { ...entry, owner: undefined }] })).toThrow(
      'config: suppressions.1.owner:',
    );
    expect(() => parseAuditConfig({ suppressions: [{ ...entry, match: 'regex' }] })).toThrow(
      'config: suppressions.0.match:',
    );
  });
});

describe('the engine owns the loop', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a rule that throws is unverified on that store with its error named; every other finding stands, exit 2', () => {
    const rows = [aBucket('gone'), aBucket('half', { state: 'Allocated' })];
    const scan = aScan(['rogue'], { absenceChecks: absent('gone') });
    const previous = reportOf(evaluate(anInput(rows, scan))).lifecycle.ledger;
    vi.spyOn(RULES['bucket-unmanaged-in-store'], 'evaluate').mockImplementation(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'name')");
    });

    const evaluation = evaluate(anInput(rows, scan));
    const { findings, coverage } = evaluation;
    const { report, lifecycle } = reportOf(evaluation, { runId: 'r2', previous });

    expect(findings.map((f) => f.rule).sort()).toEqual(['bucket-missing-in-store', 'bucket-stuck-allocated']);
    expect(coverage[0]?.checks['bucket-unmanaged-in-store']).toBe('unverified');
    expect(coverage[0]?.checks['bucket-missing-in-store']).toBe('verified');
    expect(coverage[0]?.evidence.checkNotes?.['bucket-unmanaged-in-store']).toMatch(
      /internal error in rule bucket-unmanaged-in-store: TypeError: Cannot read properties/,
    );
    expect(coverage[0]?.internalError).toMatch(/bucket-unmanaged-in-store/);
    expect(report.status).toBe('incomplete');
    expect(exitCode(report, 'low')).toBe(2);
    // Its earlier finding is kept as it was: a rule that could not judge resolves nothing.
    expect(report.resolved).toEqual([]);
    const rogue = Object.values(lifecycle.ledger.entries).find((e) => e.bucket === 'rogue');
    expect(rogue?.status).toBe('new');
  });

  it('no rule that needs the store judges one that was not verified; DB-only rules still do', () => {
    const rows = [aBucket('gone'), aBucket('half', { state: 'Allocated' })];
    for (const status of ['partial', 'unreachable', 'auth_failed'] as const) {
      const scan = aScan(['rogue'], { status, listingComplete: false, absenceChecks: absent('gone') });
      const { findings } = evaluate(anInput(rows, scan));
      expect(findings.map((f) => f.rule).sort()).toEqual(['bucket-stuck-allocated', 'store-unverified']);
    }
  });

  it('an option a rule does not take is a config error naming it', () => {
    expect(() => parseAuditConfig({ rules: { 'bucket-missing-in-store': { tolerancePercent: 5 } } })).toThrow(
      'config: rules.bucket-missing-in-store: bucket-missing-in-store does not take "tolerancePercent" (it takes enabled, severity, confirmRuns, remediate)',
    );
    expect(() => parseAuditConfig({ rules: { 'bucket-unmanaged-in-store': { remediate: true } } })).toThrow(
      /does not take "remediate"/,
    );
    expect(parseAuditConfig({ rules: { 'bucket-usage-drift': { tolerancePercent: 5 } } }).rules).toEqual({
      'bucket-usage-drift': { tolerancePercent: 5 },
    });
  });
});

describe('bytes at stake', () => {
  it('sums unbilled and misbilled bytes over unsuppressed findings, counts unknown sizes, and prices them', () => {
    const f = (rule: string, bytes: number | undefined, status = 'new') =>
      ({ rule, status, ...(bytes === undefined ? {} : { bytes }) }) as unknown as Report['findings'][number];
    const findings = [
      f('bucket-unmanaged-in-store', 2 * 1024 ** 3),
      f('bucket-removed-but-present', 1024 ** 3),
      f('bucket-account-removed', undefined),
      f('bucket-unmanaged-in-store', 5 * 1024 ** 3, 'suppressed'),
      f('bucket-usage-drift', 512 * 1024 ** 2),
      f('bucket-missing-in-store', undefined),
    ];
    expect(bytesAtStake(findings, { perGiBMonth: 0.02, currency: 'EUR' })).toEqual({
      bytes: { unbilled: 3 * 1024 ** 3, misbilled: 512 * 1024 ** 2, unknownSize: 1, billedButGone: 0 },
      monthlyCost: { unbilled: 0.06, misbilled: 0.01, billedButGone: 0, currency: 'EUR' },
    });
    expect(bytesAtStake(findings)).not.toHaveProperty('monthlyCost');
  });
});
