// Many small runs, one true picture: the ledger keeps each open finding's report and each store's
// last full audit, the current view is made from them, and the guards judge a finding by the last
// run that covered it, never by the last run.
import { describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import { currentReport } from '../../functions/core/current.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { Ledger } from '../../functions/core/ledger.js';
import { parseLedger, updateLedger } from '../../functions/core/ledger.js';
import type { StoreScan } from '../../functions/core/model.js';
import {
  STORM_QUIET_MS,
  STORM_WINDOW_MS,
  markPublished,
  planNotifications,
  stormMemory,
} from '../../functions/core/notifications.js';
import { refusal } from '../../functions/core/remediation.js';
import { buildReport } from '../../functions/core/report.js';
import { NOW, aBucket, aScan, absent, anInput } from '../support/builders.js';
import type { Notification } from '../../functions/core/notifications.js';
import { snsBody, snsSubject } from '../../functions/notify/sns.js';

/** A notification as SNS carries it (notify/sns.ts renders it): its subject and body. */
const bodyOf = (m: Notification | undefined) => (m ? snsBody(m) : '');

const gone = aBucket('gone');
const other = aBucket('other');
const drifted = aScan(['other'], { absenceChecks: absent('gone') });
const down = aScan([], { status: 'unreachable', listingComplete: false, error: 'ECONNREFUSED' });
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

/** One run over both buckets (or the named ones), moved onto the ledger. */
function run(
  previous: Ledger | null,
  scan: StoreScan,
  at: Date,
  buckets: string[] = [],
  runId = `run-${at.getTime()}`,
) {
  const { findings, coverage } = evaluate(anInput([gone, other], scan, { now: at, buckets }));
  return updateLedger({
    previous,
    findings,
    coverage,
    runId,
    now: at,
    observedAt: at.toISOString(),
    buckets,
    confirmRuns: () => 1,
  });
}

describe('the ledger keeps what the current view shows', () => {
  it('keeps each open finding as reported and drops it once resolved', () => {
    const first = run(null, drifted, NOW);
    const id = first.findings[0]?.id as string;
    expect(first.ledger.entries[id]?.finding).toMatchObject({
      id,
      rule: 'bucket-missing-in-store',
      bucket: 'gone',
      status: 'new',
    });
    const fixed = run(first.ledger, aScan(['gone', 'other']), later(60));
    expect(fixed.ledger.entries[id]?.status).toBe('resolved');
    expect(fixed.ledger.entries[id]?.finding).toBeUndefined();
    // And it reads back from its file as it was written.
    expect(parseLedger(JSON.stringify(first.ledger), 'ledger')).toEqual(first.ledger);
  });

  it("keeps each store's last full audit; a bucket-scoped run leaves it, an older observation never replaces it", () => {
    const full = run(null, drifted, NOW);
    const uuid = 'store-uuid-1';
    expect(full.ledger.stores?.[uuid]).toMatchObject({
      runId: full.ledger.lastRunId,
      lastFullVerification: NOW.toISOString(),
    });
    const event = run(full.ledger, aScan(['other']), later(5), ['other']);
    expect(event.ledger.stores).toEqual(full.ledger.stores);
    const blind = run(event.ledger, down, later(10));
    expect(blind.ledger.stores?.[uuid]?.coverage.status).toBe('unreachable');
    expect(blind.ledger.stores?.[uuid]?.lastFullVerification).toBe(NOW.toISOString()); // still the last time it was seen whole
    const stale = updateLedger({
      previous: blind.ledger,
      ...evaluate(anInput([gone, other], drifted, { now: later(11) })),
      runId: 'stale',
      now: later(11),
      observedAt: later(1).toISOString(), // read before the blind run's
      confirmRuns: () => 1,
    });
    expect(stale.ledger.stores?.[uuid]?.runId).toBe(blind.ledger.stores?.[uuid]?.runId);
  });
});

describe('the current view', () => {
  it('after a full run with drift and an event run of another bucket, still holds the drift', () => {
    // Prepare: the operator's sequence of the issue
    const full = run(null, drifted, NOW);
    const event = run(full.ledger, aScan(['other']), later(5), ['other']);

    // Act
    const view = currentReport(event.ledger, later(6));

    // Assert
    expect(view.kind).toBe('current');
    expect(view.status).toBe('drift');
    expect(view.findings.map((f) => `${f.rule} ${f.bucket} ${f.status} ${f.lastVerifiedAt}`)).toEqual([
      `bucket-missing-in-store gone new ${NOW.toISOString()}`,
    ]);
    expect(view.coverage[0]?.lastFullVerification).toBe(NOW.toISOString());
  });

  it('is never in sync while the ledger holds an open finding, and incomplete while a store is unverified', () => {
    const full = run(null, drifted, NOW);
    const blind = run(full.ledger, down, later(10));
    expect(currentReport(blind.ledger, later(11)).status).toBe('incomplete');
    const fixed = run(full.ledger, aScan(['gone', 'other']), later(10));
    expect(currentReport(fixed.ledger, later(11)).status).toBe('in_sync');
    // A ledger of 0.9.0 (no stores, no reports kept): its findings shown, never in sync.
    const old: Ledger = JSON.parse(JSON.stringify(full.ledger));
    delete old.stores;
    for (const e of Object.values(old.entries)) delete e.finding;
    const view = currentReport(old, later(1));
    expect(view.status).toBe('incomplete');
    expect(view.findings.map((f) => `${f.rule} ${f.bucket} ${f.severity}`)).toEqual([
      'bucket-missing-in-store gone high',
    ]);
  });
});

describe('guards judge by observation, not by the last run', () => {
  it('remediation accepts a finding the last full run saw, after event runs of other buckets', () => {
    const config = parseAuditConfig({ rules: { 'bucket-missing-in-store': { remediate: true } } });
    const first = run(null, drifted, NOW);
    const second = run(first.ledger, drifted, later(60));
    const id = second.findings[0]?.id as string;
    const event = run(second.ledger, aScan(['other']), later(65), ['other']);
    expect(event.ledger.lastRunId).not.toBe(event.ledger.entries[id]?.lastRunId);
    expect(refusal(id, event.ledger.entries[id], event.ledger, config)).toBeUndefined();
    // A run that covered the bucket and no longer saw it resolved it: then it is refused.
    const fixed = run(event.ledger, aScan(['gone', 'other']), later(70), ['gone']);
    expect(refusal(id, fixed.ledger.entries[id], fixed.ledger, config)).toMatch(/is resolved, not open/);
  });
});

describe('the storm memory is read from the ledger', () => {
  /** An event run of `n` missing buckets, told, and marked at `at`. */
  function stormBatch(previous: Ledger | null, names: string[], at: Date) {
    const rows = names.map((n) => aBucket(n));
    const { findings, coverage } = evaluate(
      anInput(rows, aScan([], { absenceChecks: absent(...names) }), { now: at, buckets: names }),
    );
    const lifecycle = updateLedger({
      previous,
      findings,
      coverage,
      runId: `e${at.getTime()}`,
      now: at,
      buckets: names,
      confirmRuns: () => 1,
    });
    const report = buildReport({
      runId: `e${at.getTime()}`,
      trigger: 'event',
      scope: { stores: [], rules: [], buckets: names },
      startedAt: at.toISOString(),
      finishedAt: at.toISOString(),
      cloudstack: { schema: '4.21', database: 'cloud', readAt: at.toISOString() },
      coverage,
      lifecycle,
      expiredSuppressions: [],
    });
    const plan = planNotifications({
      report,
      ledger: lifecycle.ledger,
      reportUri: 'r',
      notify: undefined,
      ...stormMemory(lifecycle.ledger, at),
    });
    return {
      plan,
      ledger: markPublished(lifecycle.ledger, plan.messages, { runId: report.runId, trigger: 'event', at }),
    };
  }
  const names = (from: number) => Array.from({ length: 10 }, (_, i) => `b${from + i}`);

  it('a storm over four batches: tasks until the breaker trips, one "investigate" task, then quiet', () => {
    const one = stormBatch(null, names(0), NOW);
    const two = stormBatch(one.ledger, names(10), later(1));
    const three = stormBatch(two.ledger, names(20), later(2));
    const four = stormBatch(three.ledger, names(30), later(3));
    const subjects = [one, two, three, four].map((b) => b.plan.messages.map((m) => snsSubject(m)));
    expect(subjects.map((s) => s.length)).toEqual([10, 10, 1, 0]);
    expect(subjects[2]?.[0]).toMatch(/investigate store minio-1: 10 new findings/);
    expect(bodyOf(three.plan.messages[0])).toContain(
      '20 more new finding(s) on this store were told one by one',
    );
    const memory = stormMemory(four.ledger, later(4));
    expect([...memory.quietStores]).toEqual(['store-uuid-1']);
    // The window and the quiet hour pass.
    expect(stormMemory(four.ledger, new Date(later(3).getTime() + STORM_QUIET_MS)).quietStores.size).toBe(0);
    expect(stormMemory(two.ledger, new Date(later(1).getTime() + STORM_WINDOW_MS)).recentlyTold.size).toBe(0);
  });
});
