import { describe, expect, it } from 'vitest';
import { evaluate } from '../../functions/core/evaluate.js';
import type { Finding } from '../../functions/core/model.js';
import { NOW, aBucket, aScan, absent, anInput } from '../support/builders.js';

const rulesOf = (findings: Finding[]) => findings.map((f) => `${f.rule} ${f.bucket ?? '-'}`).sort();
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

describe('bucket-missing-in-store', () => {
  it('needs a complete listing and a confirming 404', () => {
    const gone = aBucket('gone');
    const { findings } = evaluate(anInput([gone], aScan([], { absenceChecks: absent('gone') })));
    expect(rulesOf(findings)).toEqual(['bucket-missing-in-store gone']);
    expect(findings[0]).toMatchObject({
      severity: 'high',
      status: 'new',
      owner: { accountName: 'alice' },
      dbBucket: { id: gone.id, state: 'Created' },
    });
  });

  it('says nothing without a confirming 404', () => {
    const input = anInput(
      [aBucket('gone')],
      aScan([], { absenceChecks: { gone: { result: 'unknown', checkedAt: '' } } }),
    );
    expect(evaluate(input).findings).toEqual([]);
  });

  it.each(['partial', 'unreachable', 'auth_failed'] as const)(
    'says nothing for a store that is %s',
    (status) => {
      const input = anInput(
        [aBucket('gone')],
        aScan([], { status, listingComplete: false, absenceChecks: absent('gone') }),
      );
      expect(rulesOf(evaluate(input).findings)).toEqual(['store-unverified -']);
    },
  );

  it('ignores rows within the grace period, and the grace period is configurable', () => {
    const young = aBucket('young', { created: minutesAgo(30) });
    const scan = aScan([], { absenceChecks: absent('young') });
    expect(evaluate(anInput([young], scan)).findings).toEqual([]);
    const short = anInput([young], scan);
    short.config.gracePeriodMinutes = 10;
    expect(rulesOf(evaluate(short).findings)).toEqual(['bucket-missing-in-store young']);
  });

  it('ignores a row deleted while the audit looked (the second read shows it removed)', () => {
    const gone = aBucket('gone');
    const input = anInput([gone], aScan([], { absenceChecks: absent('gone') }), {
      recheckedRows: [{ ...gone, removed: NOW.toISOString() }],
    });
    expect(evaluate(input).findings).toEqual([]);
  });

  it('ignores Allocated and removed rows', () => {
    const rows = [
      aBucket('a', { state: 'Allocated', created: minutesAgo(30) }),
      aBucket('b', { removed: LONG() }),
    ];
    expect(evaluate(anInput(rows, aScan([], { absenceChecks: absent('a', 'b') }))).findings).toEqual([]);
  });
});

function LONG(): string {
  return '2026-11-02T00:00:00.000Z';
}

describe('bucket-unmanaged-in-store', () => {
  it('reports a store bucket with no row at all', () => {
    expect(rulesOf(evaluate(anInput([], aScan(['rogue']))).findings)).toEqual([
      'bucket-unmanaged-in-store rogue',
    ]);
  });

  it('ignores a bucket whose row appeared after the snapshot (a create in flight)', () => {
    const late = aBucket('new', { state: 'Allocated', created: NOW.toISOString() });
    expect(evaluate(anInput([], aScan(['new']), { recheckedRows: [late] })).findings).toEqual([]);
  });

  it('is never reported from a partial listing', () => {
    expect(
      rulesOf(
        evaluate(anInput([], aScan(['rogue'], { status: 'partial', listingComplete: false }))).findings,
      ),
    ).toEqual(['store-unverified -']);
  });
});

describe('bucket-removed-but-present', () => {
  it('reports a bucket whose rows are all soft-deleted, and not as unmanaged', () => {
    const rows = [
      aBucket('zombie', { removed: '2026-11-10T00:00:00.000Z' }),
      aBucket('zombie', { removed: '2026-11-12T00:00:00.000Z' }),
    ];
    const { findings } = evaluate(anInput(rows, aScan(['zombie'])));
    expect(rulesOf(findings)).toEqual(['bucket-removed-but-present zombie']);
    expect(findings[0]?.dbBucket?.removed).toBe('2026-11-12T00:00:00.000Z');
  });

  it('stays quiet when one row is still active', () => {
    const rows = [aBucket('x', { removed: '2026-11-10T00:00:00.000Z' }), aBucket('x')];
    expect(evaluate(anInput(rows, aScan(['x']))).findings).toEqual([]);
  });
});

describe('bucket-stuck-allocated', () => {
  it('reports Allocated rows past the grace period, whether or not the store has them', () => {
    const rows = [
      aBucket('half', { state: 'Allocated' }),
      aBucket('fresh', { state: 'Allocated', created: minutesAgo(5) }),
    ];
    const { findings } = evaluate(anInput(rows, aScan(['half'])));
    expect(rulesOf(findings)).toEqual(['bucket-stuck-allocated half']);
    expect(findings[0]?.evidence.seenInStore).toBe(true);
    expect(findings[0]?.remediation.steps.join('\n')).toMatch(
      /UPDATE bucket SET removed = UTC_TIMESTAMP\(\) WHERE id = \d+/,
    );
  });
});

describe('bucket-duplicate-name', () => {
  it('gives one finding per name, keeping the oldest row', () => {
    const rows = [aBucket('twice'), aBucket('twice'), aBucket('twice', { removed: LONG() })];
    const { findings } = evaluate(anInput(rows, aScan(['twice'])));
    expect(rulesOf(findings)).toEqual(['bucket-duplicate-name twice']);
    expect(findings[0]?.dbBucket?.id).toBe(rows[0]?.id);
    expect(findings[0]?.remediation.steps.join('\n')).toContain(`WHERE id IN (${rows[1]?.id})`);
  });
});

describe('bucket-account-removed', () => {
  it('reports an active bucket of a removed account', () => {
    const rows = [
      aBucket('orphan', { accountRemoved: true }),
      aBucket('old', { accountRemoved: true, removed: LONG() }),
    ];
    expect(rulesOf(evaluate(anInput(rows, aScan(['orphan']))).findings)).toEqual([
      'bucket-account-removed orphan',
    ]);
  });
});

describe('store-unverified', () => {
  it('is reported for a store that is not verified, never for a skipped one', () => {
    const skipped = evaluate(
      anInput([aBucket('x')], aScan([], { status: 'skipped', listingComplete: false })),
    );
    expect(skipped.findings).toEqual([]);
    expect(skipped.coverage[0]?.checks['bucket-missing-in-store']).toBe('not_applicable');
    const failed = evaluate(
      anInput([], aScan([], { status: 'unreachable', listingComplete: false, error: 'ECONNREFUSED' })),
    );
    expect(failed.findings[0]).toMatchObject({ rule: 'store-unverified', bucket: null, severity: 'high' });
    expect(failed.findings[0]?.message).toContain('ECONNREFUSED');
  });
});

describe('remediation playbooks', () => {
  it('end every finding with what to verify afterwards', () => {
    const rows = [
      aBucket('gone'),
      aBucket('half', { state: 'Allocated' }),
      aBucket('twice'),
      aBucket('twice'),
      aBucket('orphan', { accountRemoved: true }),
      aBucket('zombie', { removed: LONG() }),
    ];
    const all = evaluate(
      anInput(rows, aScan(['rogue', 'twice', 'orphan', 'zombie'], { absenceChecks: absent('gone') })),
    ).findings;
    const down = evaluate(anInput([], aScan([], { status: 'unreachable', listingComplete: false }))).findings;
    const findings = [...all, ...down];
    expect(new Set(findings.map((f) => f.rule)).size).toBe(7);
    for (const f of findings) expect(f.remediation.steps.at(-1), f.rule).toMatch(/^Verify: /);
  });
});

describe('bucket-url-stale', () => {
  const atStore = (url: string | undefined, provider = 'MinIO') => {
    const rows = [
      aBucket('kept', { bucketUrl: 'http://minio.internal:9000/kept' }),
      aBucket('moved', { bucketUrl: 'http://minio-old.internal:9000/moved' }),
      aBucket('moved-gone', { bucketUrl: 'http://minio-old.internal:9000/moved-gone', removed: LONG() }),
      aBucket('never-set', { bucketUrl: null }),
    ];
    const input = anInput(rows, aScan(['kept', 'moved', 'never-set']));
    const store = input.inventory.stores[0];
    if (store) Object.assign(store, { provider, ...(url === undefined ? {} : { recordedUrl: url }) });
    return evaluate(input);
  };

  it("reports an active row whose URL is not under the store's recorded URL, with the SQL that rewrites it", () => {
    const { findings, coverage } = atStore('http://minio.internal:9000/');
    expect(rulesOf(findings)).toEqual(['bucket-url-stale moved']);
    expect(findings[0]?.evidence).toEqual({
      bucketUrl: 'http://minio-old.internal:9000/moved',
      storeUrl: 'http://minio.internal:9000',
      expected: 'http://minio.internal:9000/moved',
    });
    expect(findings[0]?.remediation.steps.join('\n')).toContain(
      "SET b.bucket_url = CONCAT(TRIM(TRAILING '/' FROM s.url), '/', b.name)",
    );
    expect(coverage[0]?.checks?.['bucket-url-stale']).toBe('verified');
  });

  it('is not applicable where the driver builds the URL another way, or the store has no URL on record', () => {
    for (const [url, provider] of [
      ['http://cloudian-admin.internal:19443', 'Cloudian HyperStore'],
      [undefined, 'MinIO'],
    ] as const) {
      const { findings, coverage } = atStore(url, provider);
      expect(findings.filter((f) => f.rule === 'bucket-url-stale')).toEqual([]);
      expect(coverage[0]?.checks?.['bucket-url-stale']).toBe('not_applicable');
    }
  });
});
