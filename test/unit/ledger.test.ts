import { describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { Ledger } from '../../functions/core/ledger.js';
import { parseLedger, updateLedger } from '../../functions/core/ledger.js';
import type { StoreScan } from '../../functions/core/model.js';
import { NOW, aBucket, aScan, absent, anInput } from '../support/builders.js';

const gone = aBucket('gone');
const drifted = aScan([], { absenceChecks: absent('gone') });
const fixed = aScan(['gone']);
const down = aScan([], { status: 'unreachable', listingComplete: false, error: 'ECONNREFUSED' });

/** One night: evaluate the scan, then move the ledger on. */
function night(
  previous: Ledger | null,
  scan: StoreScan,
  day: number,
  options: { confirmRuns?: number; rules?: [] | ['bucket-stuck-allocated']; config?: object } = {},
) {
  const now = new Date(NOW.getTime() + day * 86_400_000);
  const { findings, coverage } = evaluate(
    anInput([gone], scan, {
      now,
      rules: options.rules ?? [],
      config: parseAuditConfig(options.config ?? {}),
    }),
  );
  return updateLedger({
    previous,
    findings,
    coverage,
    runId: `run-${day}`,
    now,
    confirmRuns: () => options.confirmRuns ?? 1,
  });
}

const statusOf = (u: ReturnType<typeof night>) =>
  u.findings.find((f) => f.rule === 'bucket-missing-in-store')?.status ??
  (u.resolved.length ? 'resolved' : 'absent');

describe('updateLedger', () => {
  it('goes new, open, then resolved when a verified run no longer sees it', () => {
    const first = night(null, drifted, 0);
    const second = night(first.ledger, drifted, 1);
    const third = night(second.ledger, fixed, 2);
    expect([statusOf(first), statusOf(second), statusOf(third)]).toEqual(['new', 'open', 'resolved']);
    expect(second.findings[0]?.firstSeen).toBe(first.findings[0]?.firstSeen);
    expect(second.findings[0]?.lastSeen).not.toBe(first.findings[0]?.lastSeen);
    expect(third.resolved).toEqual([
      {
        id: first.findings[0]?.id,
        rule: 'bucket-missing-in-store',
        store: { uuid: 'store-uuid-1', name: 'minio-1' },
        bucket: 'gone',
        firstSeen: first.findings[0]?.firstSeen,
        resolvedAt: third.ledger.updatedAt,
      },
    ]);
  });

  it('neither resolves nor re-opens a finding on a night its store could not be verified', () => {
    const first = night(null, drifted, 0);
    const blind = night(first.ledger, down, 1);
    const back = night(blind.ledger, drifted, 2);
    expect(blind.resolved).toEqual([]);
    const id = first.findings[0]?.id as string;
    expect(blind.ledger.entries[id]).toEqual(first.ledger.entries[id]); // untouched: status and last seen kept
    expect(statusOf(back)).toBe('open');
  });

  it('keeps a finding whose rule was out of scope this run', () => {
    const first = night(null, drifted, 0);
    const narrow = night(first.ledger, fixed, 1, { rules: ['bucket-stuck-allocated'] });
    expect(narrow.resolved).toEqual([]);
    expect(narrow.ledger.entries[first.findings[0]?.id as string]?.status).toBe('new');
  });

  it('reports a drift that comes back after being resolved as new again', () => {
    const first = night(null, drifted, 0);
    const resolved = night(first.ledger, fixed, 1);
    const again = night(resolved.ledger, drifted, 2);
    expect(statusOf(again)).toBe('new');
    expect(again.findings[0]?.firstSeen).toBe(again.ledger.updatedAt);
  });

  it('holds a finding back until it is seen on confirmRuns consecutive runs', () => {
    const first = night(null, drifted, 0, { confirmRuns: 3 });
    const second = night(first.ledger, drifted, 1, { confirmRuns: 3 });
    const third = night(second.ledger, drifted, 2, { confirmRuns: 3 });
    expect([first.findings.length, second.findings.length, statusOf(third)]).toEqual([0, 0, 'new']);
    expect(second.pending).toMatchObject([
      { rule: 'bucket-missing-in-store', bucket: 'gone', seenRuns: 2, needed: 3 },
    ]);
    expect(third.findings[0]?.firstSeen).toBe(first.ledger.updatedAt);
  });

  it('forgets a pending finding whose streak breaks on a verified run', () => {
    const first = night(null, drifted, 0, { confirmRuns: 2 });
    const broken = night(first.ledger, fixed, 1, { confirmRuns: 2 });
    expect(broken.ledger.entries).toEqual({});
    expect(broken.resolved).toEqual([]);
  });

  it('records suppressed findings, and reports them new once the suppression expires', () => {
    const suppressions = [
      {
        rule: 'bucket-missing-in-store',
        store: 'minio-1',
        bucket: 'gone',
        reason: 'r',
        owner: 'o',
        expires: '2026-11-26',
      },
    ];
    const first = night(null, drifted, 0, { config: { suppressions } });
    const expired = night(first.ledger, drifted, 3, { config: { suppressions } });
    expect(statusOf(first)).toBe('suppressed');
    expect(statusOf(expired)).toBe('new');
    expect(expired.findings[0]?.evidence.suppressionExpired).toMatchObject({ expires: '2026-11-26' });
  });
});

describe('parseLedger', () => {
  it('reads back what updateLedger wrote', () => {
    const { ledger } = night(null, drifted, 0);
    expect(parseLedger(JSON.stringify(ledger), 'state/ledger.json')).toEqual(ledger);
  });

  it.each([
    ['{"schemaVersion": 1, "entr', /state\/ledger\.json is not valid JSON .*move it aside/],
    [
      '{"schemaVersion": 2, "updatedAt": "", "lastRunId": null, "entries": {}}',
      /state\/ledger\.json is not a csdrift ledger \(schemaVersion:/,
    ],
    ['[]', /is not a csdrift ledger/],
  ])('refuses %s with one clear error', (text, message) => {
    expect(() => parseLedger(text, 'state/ledger.json')).toThrow(message);
  });
});

describe('updateLedger with overlapping runs', () => {
  const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
  /** A run whose DB read (its observation) was at `observed`, written at `written`. */
  function run(
    previous: Ledger | null,
    scan: StoreScan,
    observed: number,
    written: number,
    buckets?: string[],
  ) {
    const { findings, coverage } = evaluate(anInput([gone, aBucket('other')], scan, { now: at(written) }));
    return updateLedger({
      previous,
      findings,
      coverage,
      runId: `run-${observed}-${written}`,
      now: at(written),
      observedAt: at(observed).toISOString(),
      ...(buckets ? { buckets } : {}),
      confirmRuns: () => 1,
    });
  }
  const withOther = (scan: StoreScan) => ({ ...scan, buckets: [...scan.buckets, { name: 'other' }] });

  it('a full audit that observed at 02:01 does not resolve what a targeted audit confirmed at 02:03', () => {
    const targeted = run(null, withOther(drifted), 3, 4, ['gone']);
    expect(statusOf(targeted)).toBe('new');
    // The full audit's listing predates the targeted check; it writes last, having seen the bucket.
    const full = run(targeted.ledger, withOther(fixed), 1, 5);
    expect(full.resolved).toEqual([]);
    const entry = Object.values(full.ledger.entries)[0];
    expect(entry?.status).toBe('new');
    expect(entry?.observedAt).toBe(at(3).toISOString());
  });

  it('a later observation does resolve it, and an older one does not re-open it', () => {
    const targeted = run(null, withOther(drifted), 3, 4, ['gone']);
    const later = run(targeted.ledger, withOther(fixed), 6, 7);
    expect(later.resolved).toHaveLength(1);
    const stale = run(later.ledger, withOther(drifted), 5, 8);
    expect(stale.findings.filter((f) => f.rule === 'bucket-missing-in-store')).toEqual([]);
    expect(Object.values(stale.ledger.entries)[0]?.status).toBe('resolved');
  });

  it('a run scoped to one bucket leaves every other bucket and store-level entry alone', () => {
    const full = run(null, withOther(drifted), 1, 2);
    const ids = Object.keys(full.ledger.entries);
    // A targeted audit of `other` (in sync) sees nothing of `gone`: its finding stays open.
    const scoped = run(full.ledger, aScan(['other']), 3, 4, ['other']);
    expect(scoped.resolved).toEqual([]);
    expect(Object.keys(scoped.ledger.entries)).toEqual(ids);
    expect(Object.values(scoped.ledger.entries).every((e) => e.status === 'new')).toBe(true);
  });
});
