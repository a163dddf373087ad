import { describe, expect, it } from 'vitest';
import { evaluate } from '../../functions/core/evaluate.js';
import type { BucketAttributes, Finding, StoreScan } from '../../functions/core/model.js';
import { describePolicy, policyMeaning } from '../../functions/core/policy-meaning.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import { aBucket, aScan, aStore, anInput, anInventory } from '../support/builders.js';

const GIB = 1024 ** 3;
const ALL = ['owner', 'versioning', 'encryption', 'objectLock', 'policy', 'quota', 'usage'] as const;

function scanWith(attributes: Record<string, BucketAttributes>, more: Partial<StoreScan> = {}): StoreScan {
  return aScan(Object.keys(attributes), { capabilities: [...ALL], attributes, ...more });
}

const found = (findings: Finding[]) =>
  findings.map((f) => `${f.rule} ${f.bucket} ${JSON.stringify(f.expected)}->${JSON.stringify(f.actual)}`);

describe('policyMeaning', () => {
  it("reads CloudStack's public policy as public, and the same grant written differently the same way", () => {
    const cloudstack = {
      Statement: [
        {
          Action: ['s3:GetBucketLocation', 's3:ListBucket'],
          Effect: 'Allow',
          Principal: '*',
          Resource: 'arn:aws:s3:::b',
        },
        { Action: 's3:GetObject', Effect: 'Allow', Principal: '*', Resource: 'arn:aws:s3:::b/*' },
      ],
    };
    const rewritten = {
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: 's3:*',
        Resource: ['arn:aws:s3:::b*'],
      },
    };
    expect(describePolicy(policyMeaning(JSON.stringify(cloudstack), 'b'))).toBe('public');
    expect(policyMeaning(JSON.stringify(rewritten), 'b')).toMatchObject({
      anonymousRead: 'yes',
      anonymousList: 'yes',
    });
  });

  it('counts an empty statement list, named principals and an unconditional Deny as private', () => {
    const named = {
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam:::user/x' }, Action: 's3:*', Resource: '*' },
      ],
    };
    const denied = {
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      ],
    };
    for (const doc of [{ Version: '2012-10-17', Statement: [] }, named, denied])
      expect(describePolicy(policyMeaning(JSON.stringify(doc), 'b'))).toBe('private');
  });

  it('names partial, conditional and write grants', () => {
    const readOnly = {
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
    };
    const fromOffice = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:*',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
        },
      ],
    };
    expect(describePolicy(policyMeaning(JSON.stringify(readOnly), 'b'))).toBe(
      'partly public (anonymous read)',
    );
    expect(describePolicy(policyMeaning(JSON.stringify(fromOffice), 'b'))).toBe(
      'anonymous write (under a condition)',
    );
    expect(() => policyMeaning('{not json', 'b')).toThrow(/not valid JSON/);
  });
});

describe('attribute rules', () => {
  it('versioning: false matches Suspended and never enabled; true needs Enabled', () => {
    const rows = [
      aBucket('a', { versioning: false }),
      aBucket('b', { versioning: false }),
      aBucket('c', { versioning: true }),
      aBucket('d', { versioning: false }),
    ];
    const scan = scanWith({
      a: { versioning: { value: 'Suspended' } },
      b: { versioning: { value: 'Off' } },
      c: { versioning: { value: 'Suspended' } },
      d: { versioning: { value: 'Enabled' }, objectLock: { value: false } },
    });
    expect(
      found(evaluate(anInput(rows, scan, { rules: ['bucket-versioning-mismatch'] })).findings).sort(),
    ).toEqual(['bucket-versioning-mismatch c true->false', 'bucket-versioning-mismatch d false->true']);
  });

  it('versioning: object lock in the store forces Enabled, so DB false is in sync; an unread lock is unverified, never drift', () => {
    const rows = [
      aBucket('locked', { versioning: false, objectLock: true }),
      aBucket('unknown', { versioning: false, objectLock: true }),
    ];
    const forced = scanWith({
      locked: { versioning: { value: 'Enabled' }, objectLock: { value: true } },
      unknown: { versioning: { value: 'Off' } },
    });
    const inSync = evaluate(anInput(rows, forced, { rules: ['bucket-versioning-mismatch'] }));
    expect(inSync.findings).toEqual([]);
    expect(inSync.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('verified');

    const unread = scanWith({
      locked: { versioning: { value: 'Enabled' }, objectLock: { value: true } },
      unknown: { versioning: { value: 'Enabled' }, objectLock: { error: 'HTTP 500' } },
    });
    const result = evaluate(anInput(rows, unread, { rules: ['bucket-versioning-mismatch'] }));
    expect(result.findings).toEqual([]);
    expect(result.coverage[0]?.checks['bucket-versioning-mismatch']).toBe('unverified');
    expect(result.coverage[0]?.evidence.checkNotes?.['bucket-versioning-mismatch']).toMatch(
      /object lock .* could not be read \(unknown\)/,
    );
  });

  it('quota: GB against bytes, normalised; no quota on either side matches', () => {
    const rows = [aBucket('a', { quota: 2 }), aBucket('b', { quota: 0 }), aBucket('c', { quota: 3 })];
    const scan = scanWith({
      a: { quota: { value: 2 * GIB } },
      b: { quota: { value: null } },
      c: { quota: { value: GIB / 2 } },
    });
    expect(found(evaluate(anInput(rows, scan, { rules: ['bucket-quota-mismatch'] })).findings)).toEqual([
      'bucket-quota-mismatch c 3->0.5',
    ]);
  });

  it('usage: drift only beyond both tolerances (default 10% and 100 MiB), configurable', () => {
    const MIB = 1024 ** 2;
    const rows = [
      aBucket('small', { size: 0 }),
      aBucket('close', { size: 1000 * MIB }),
      aBucket('far', { size: 100 * MIB }),
    ];
    const scan = scanWith({
      small: { usage: { value: { bytes: 90 * MIB } } },
      close: { usage: { value: { bytes: 1050 * MIB } } },
      far: { usage: { value: { bytes: 400 * MIB } } },
    });
    expect(found(evaluate(anInput(rows, scan, { rules: ['bucket-usage-drift'] })).findings)).toEqual([
      `bucket-usage-drift far ${100 * MIB}->${400 * MIB}`,
    ]);
    const strict = parseAuditConfig({
      rules: { 'bucket-usage-drift': { toleranceMiB: 1, tolerancePercent: 1 } },
    });
    expect(
      evaluate(anInput(rows, scan, { rules: ['bucket-usage-drift'], config: strict })).findings,
    ).toHaveLength(3);
  });

  it('usage: the billed figure (bucket_statistics) is compared too, and the finding says which one is wrong', () => {
    const MIB = 1024 ** 2;
    const rows = [
      aBucket('billed-wrong', { size: 400 * MIB, billedBytes: 100 * MIB }),
      aBucket('both-wrong', { size: 100 * MIB, billedBytes: 100 * MIB }),
      aBucket('size-wrong', { size: 100 * MIB, billedBytes: 400 * MIB }),
      aBucket('right', { size: 400 * MIB, billedBytes: 400 * MIB }),
    ];
    const scan = scanWith(
      Object.fromEntries(rows.map((r) => [r.name, { usage: { value: { bytes: 400 * MIB } } }])),
    );
    const findings = evaluate(anInput(rows, scan, { rules: ['bucket-usage-drift'] })).findings;
    const by = (name: string) => findings.find((f) => f.bucket === name);
    expect(findings.map((f) => [f.bucket, f.evidence.wrong, f.bytes])).toEqual([
      ['billed-wrong', 'billed', 300 * MIB],
      ['both-wrong', 'both', 300 * MIB],
      ['size-wrong', 'size', 0],
    ]);
    expect(by('billed-wrong')?.message).toContain(
      "CloudStack's size is right but the usage server bills 100.0 MiB (bucket_statistics).",
    );
    expect(by('both-wrong')?.message).toContain(
      'CloudStack records 100.0 MiB and bills 100.0 MiB (bucket_statistics).',
    );
    expect(by('size-wrong')?.message).toContain('the usage server bills the right figure (400.0 MiB).');
    expect(by('billed-wrong')?.evidence).toMatchObject({ dbBytes: 400 * MIB, billedBytes: 100 * MIB });
  });

  it('an unreadable attribute is unverified with its reason, never a finding; a provider without it is not_applicable', () => {
    const rows = [aBucket('a', { policy: 'public' })];
    const denied = scanWith({ a: { policy: { error: 'AccessDenied (HTTP 403) with the admin keys' } } });
    const result = evaluate(anInput(rows, denied, { rules: ['bucket-policy-mismatch'] }));
    expect(result.findings).toEqual([]);
    expect(result.coverage[0]?.checks['bucket-policy-mismatch']).toBe('unverified');
    expect(result.coverage[0]?.evidence.checkNotes?.['bucket-policy-mismatch']).toContain('a: AccessDenied');

    const cloudian = aScan(['a'], {
      capabilities: ['policy'],
      notApplicable: { quota: 'no bucket quota on this provider' },
    });
    const na = evaluate(
      anInput([aBucket('a', { quota: 5 })], cloudian, { rules: ['bucket-quota-mismatch'] }),
    );
    expect(na.findings).toEqual([]);
    expect(na.coverage[0]?.checks['bucket-quota-mismatch']).toBe('not_applicable');
    expect(na.coverage[0]?.evidence.checkNotes?.['bucket-quota-mismatch']).toBe(
      'no bucket quota on this provider',
    );
  });

  it('leaves buckets within the grace period and duplicate names alone', () => {
    const rows = [
      aBucket('young', { versioning: true, created: new Date().toISOString() }),
      aBucket('twice', { versioning: true }),
      aBucket('twice', { versioning: true }),
    ];
    const scan = scanWith({
      young: { versioning: { value: 'Off' } },
      twice: { versioning: { value: 'Off' } },
    });
    const input = anInput(rows, scan, { rules: ['bucket-versioning-mismatch'], now: new Date() });
    expect(evaluate(input).findings).toEqual([]);
  });

  it('store accounting: used size against the sum of sizes, allocated against SUM(quota) GiB, naming the back-fill', () => {
    const rows = [aBucket('a', { quota: 2, size: 0 }), aBucket('b', { quota: 1, size: 0 })];
    const store = aStore({ usedBytes: 0, allocatedSize: 2 + 1 * GIB });
    const input = {
      ...anInput(rows, aScan(['a', 'b'])),
      inventory: anInventory(rows, [store]),
      rules: ['store-accounting-drift' as const],
    };
    const [finding] = evaluate(input).findings;
    expect(finding).toMatchObject({
      attribute: 'allocatedSize',
      expected: 3 * GIB,
      actual: 2 + GIB,
      bucket: null,
    });
    expect(finding?.evidence.knownCause).toMatch(/2 GB of quota are counted as 2 bytes/);
  });
});
