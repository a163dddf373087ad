import { describe, expect, it } from 'vitest';
import {
  MAX_FULL_RUNS,
  appendToHistory,
  isFullRun,
  parseHistory,
  reportTrend,
} from '../../functions/core/history.js';
import type { History } from '../../functions/core/history.js';
import { sinceLastFullRun } from '../../functions/core/notifications.js';
import type { Report } from '../../functions/core/report.js';
import { aBucket, aScan, absent, anInput, reportOf } from '../support/builders.js';
import { evaluate } from '../../functions/core/evaluate.js';

const GIB = 1024 ** 3;

/** A report of the planted drift, finished at `at`, with `unbilled` bytes at stake. */
function night(at: string, runId: string, unbilled: number, scope: Partial<Report['scope']> = {}): Report {
  const { report } = reportOf(
    evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') }))),
    {
      runId,
    },
  );
  return {
    ...report,
    finishedAt: at,
    scope: { stores: [], rules: [], buckets: [], ...scope },
    summary: { ...report.summary, bytes: { unbilled, misbilled: 0, unknownSize: 0, billedButGone: 0 } },
  };
}

describe('the run history', () => {
  it('keeps full runs and scoped runs apart, each run once however often it is written', () => {
    let h: History | null = null;
    h = appendToHistory(h, night('2026-11-29T02:05:00Z', 'a', GIB));
    h = appendToHistory(h, night('2026-11-29T09:00:00Z', 'e', GIB, { buckets: ['gone'] }));
    h = appendToHistory(h, night('2026-11-30T02:05:00Z', 'b', 2 * GIB));
    h = appendToHistory(h, night('2026-11-30T02:05:00Z', 'b', 2 * GIB)); // a merge writes it again
    expect(h.full.map((e) => e.runId)).toEqual(['a', 'b']);
    expect(h.scoped.map((e) => e.runId)).toEqual(['e']);
    expect(h.full[1]).toMatchObject({
      openBySeverity: { high: 1 },
      byRule: { 'bucket-missing-in-store': 1 },
    });
    expect(parseHistory(JSON.stringify(h), 'history')).toEqual(h);
    expect(isFullRun({ trigger: 'event', scope: { stores: [], rules: [], buckets: [] } })).toBe(false);
  });

  it('is bounded to a year of nightly runs', () => {
    let h: History | null = null;
    for (let i = 0; i < MAX_FULL_RUNS + 30; i++)
      h = appendToHistory(
        h,
        night(new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString(), `r${i}`, 0),
      );
    expect(h?.full).toHaveLength(MAX_FULL_RUNS);
    expect(h?.full[0]?.runId).toBe('r30');
  });

  it('gives the trend and the change since the last full run for the digest', () => {
    const yesterday = night('2026-11-30T02:05:00Z', 'b', 1.2 * 1024 * GIB - 40 * GIB);
    const today = night('2026-12-01T02:05:00Z', 'c', 1.2 * 1024 * GIB);
    const h = appendToHistory(appendToHistory(null, yesterday), today);
    const trend = reportTrend(h, today);
    expect(trend.points.map((p) => p.runId)).toEqual(['b', 'c']);
    expect(trend.previous).toMatchObject({ runId: 'b', open: 1 });
    expect(sinceLastFullRun({ ...today, trend })).toBe('+40.00 GiB unbilled since yesterday');
    const weekLater = { ...today, finishedAt: '2026-12-07T02:05:00Z', trend };
    expect(sinceLastFullRun(weekLater)).toBe('+40.00 GiB unbilled since the last full run (2026-11-30)');
  });

  it('refuses a file that is not a history, naming it', () => {
    expect(() => parseHistory('{"schemaVersion": 1}', 'state/history.json')).toThrow(
      /state\/history.json is not a csdrift history/,
    );
    expect(() => parseHistory('nope', 'state/history.json')).toThrow(/not valid JSON/);
  });
});
