import { describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../functions/core/config.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { Ledger } from '../../functions/core/ledger.js';
import { updateLedger } from '../../functions/core/ledger.js';
import type { DbBucket, StoreScan } from '../../functions/core/model.js';
import { markPublished, planNotifications, renderText } from '../../functions/core/notifications.js';
import type { Notification } from '../../functions/core/notifications.js';
import { buildReport } from '../../functions/core/report.js';
import { slackBlocks, escapeSlack } from '../../functions/notify/slack.js';
import { INVISIBLE } from '../../functions/core/shell.js';
import { NOW, aBucket, aScan, absent, anInput } from '../support/builders.js';
import { MESSAGE_MAX_BYTES, notificationFromSns, snsBody, snsSubject } from '../../functions/notify/sns.js';

/** A notification as SNS carries it (notify/sns.ts renders it): its subject and body. */
const subjectOf = (m: Notification | undefined) => (m ? snsSubject(m) : '');
const bodyOf = (m: Notification | undefined) => (m ? snsBody(m) : '');

const REPORT = 's3://reports/runs/r/report.html';

function run(rows: DbBucket[], scan: StoreScan, previous: Ledger | null, day = 0, notify: object = {}) {
  const now = new Date(NOW.getTime() + day * 86_400_000);
  const { findings, coverage } = evaluate(anInput(rows, scan, { now }));
  const lifecycle = updateLedger({
    previous,
    findings,
    coverage,
    runId: `run-${day}`,
    now,
    confirmRuns: () => 1,
  });
  const report = buildReport({
    runId: `run-${day}`,
    trigger: 'cli',
    scope: { stores: [], rules: [], buckets: [] },
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    cloudstack: { schema: '4.21', database: 'cloud', readAt: now.toISOString() },
    coverage,
    lifecycle,
    expiredSuppressions: [],
  });
  const plan = planNotifications({
    report,
    ledger: lifecycle.ledger,
    reportUri: REPORT,
    notify: parseAuditConfig({ notify }).notify,
  });
  return {
    report,
    ledger: markPublished(lifecycle.ledger, plan.messages, {
      runId: report.runId,
      trigger: report.trigger,
      at: NOW,
    }),
    plan,
  };
}

const kinds = (plan: ReturnType<typeof run>['plan']) => plan.messages.map((m) => m.kind);

describe('planNotifications', () => {
  const gone = aBucket('photos-prod');
  const half = aBucket('half', { state: 'Allocated' });

  it('sends one task per new finding and one digest, then only a digest, then one resolved', () => {
    const first = run([gone, half], aScan([], { absenceChecks: absent('photos-prod') }), null, 0);
    const second = run([gone, half], aScan([], { absenceChecks: absent('photos-prod') }), first.ledger, 1);
    const fixed = run([gone, half], aScan(['photos-prod']), second.ledger, 2);
    expect(kinds(first.plan)).toEqual(['task', 'task', 'digest']);
    expect(kinds(second.plan)).toEqual(['digest']);
    expect(kinds(fixed.plan)).toEqual(['resolved', 'digest']);
  });

  it('writes a subject a person can scan, attributes for filter policies, text first and JSON after', () => {
    const { plan } = run([gone], aScan([], { absenceChecks: absent('photos-prod') }), null);
    const task = plan.messages[0];
    expect(subjectOf(task)).toBe('[high] bucket-missing-in-store: photos-prod on minio-1');
    expect(task?.attributes).toEqual({
      rule: 'bucket-missing-in-store',
      severity: 'high',
      store: 'minio-1',
      kind: 'task',
    });
    expect(bodyOf(task)).toMatch(/^HIGH: bucket-missing-in-store\nBucket photos-prod of account alice/);
    const json = JSON.parse(bodyOf(task).split('--- JSON ---\n')[1] ?? '');
    expect(json).toMatchObject({
      findingId: plan.messages[0]?.findingIds[0],
      rule: 'bucket-missing-in-store',
      bucket: 'photos-prod',
      owner: { accountName: 'alice' },
      report: REPORT,
    });
    expect(json.remediation.steps.length).toBeGreaterThan(2);
    expect(task?.groupId).toBe('store-uuid-1');
    expect(task?.dedupId).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.messages[1]?.attributes).toEqual({
      rule: 'all',
      severity: 'high',
      store: 'all',
      kind: 'digest',
    });
  });

  it('keeps subjects within 100 printable ASCII characters', () => {
    const { plan } = run(
      [aBucket(`${'x'.repeat(120)}-ünïcode`)],
      aScan([], { absenceChecks: absent(`${'x'.repeat(120)}-ünïcode`) }),
      null,
    );
    for (const m of plan.messages) expect(snsSubject(m)).toMatch(/^[\x20-\x7e]{1,100}$/);
  });

  it('keeps a message under the SNS limit by pointing at the report instead of huge evidence', () => {
    const { report, ledger } = run([gone], aScan([], { absenceChecks: absent('photos-prod') }), null);
    const finding = report.findings[0];
    if (finding) finding.evidence = { blob: 'x'.repeat(400 * 1024) };
    const plan = planNotifications({
      report,
      ledger: { ...ledger, entries: {} },
      reportUri: REPORT,
      notify: undefined,
    });
    expect(Buffer.byteLength(bodyOf(plan.messages[0]))).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    expect(bodyOf(plan.messages[0])).toContain(`too large for a message: see ${REPORT}`);
  });

  it('a storm of 10,000 findings with multi-byte owners: the investigate message fits in bytes and its JSON part still parses', () => {
    // 0.9.0 cut the message at 250 KiB of characters: past ~6,400 finding ids the JSON ended mid-list.
    const owner = {
      accountUuid: 'acct-uuid',
      accountName: 'Zoë-Ωμέγα-東京-🚀',
      domainUuid: 'dom-uuid',
      domainPath: '/Ünïcødé/部門',
    };
    const rows = Array.from({ length: 10_000 }, (_, i) => aBucket(`b${i}`, { owner }));
    const { plan } = run(rows, aScan([], { absenceChecks: absent(...rows.map((r) => r.name)) }), null);
    const investigate = plan.messages.find((m) => m.kind === 'task');
    const body = bodyOf(investigate);
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(MESSAGE_MAX_BYTES);
    const json = JSON.parse(body.split('--- JSON ---\n')[1] ?? '') as Record<string, unknown>;
    expect(json).toMatchObject({ kind: 'task', newFindings: 10_000, report: REPORT });
    expect(json.findingIds).toBe(`too large for a message: see ${REPORT}`);
    expect(investigate?.findingIds).toHaveLength(10_000); // the ledger still marks every one as told
  });

  it.each([
    [25, 200, 'task'], // at the absolute threshold (12.5%): one task each
    [26, 200, 'investigate'], // past it: one task for the store
    [5, 24, 'investigate'], // 5 of 24 buckets is past 20%
    [4, 10, 'task'], // fewer than 5 never trips the percentage
  ])('the circuit breaker with %i new findings on a store of %i buckets sends %s', (n, buckets, expected) => {
    const rows = Array.from({ length: buckets }, (_, i) => aBucket(`b${i}`));
    const missing = rows.slice(0, n).map((r) => r.name);
    const { plan } = run(
      rows,
      aScan(
        rows.slice(n).map((r) => r.name),
        { absenceChecks: absent(...missing) },
      ),
      null,
    );
    const tasks = plan.messages.filter((m) => m.kind === 'task');
    if (expected === 'task') expect(tasks).toHaveLength(n);
    else {
      expect(tasks).toHaveLength(1);
      expect(subjectOf(tasks[0])).toBe(`[high] investigate store minio-1: ${n} new findings`);
      expect(tasks[0]?.findingIds).toHaveLength(n);
      expect(plan.trippedStores).toEqual(['minio-1']);
    }
  });

  it('in a storm told in batches, counts what recent event runs told, then keeps the store quiet', () => {
    const rows = Array.from({ length: 10 }, (_, i) => aBucket(`b${i}`));
    const scan = aScan([], { absenceChecks: absent(...rows.map((b) => b.name)) });
    const { findings, coverage } = evaluate(anInput(rows, scan, { now: NOW }));
    const lifecycle = updateLedger({
      previous: null,
      findings,
      coverage,
      runId: 'e',
      now: NOW,
      confirmRuns: () => 1,
    });
    const report = buildReport({
      runId: 'e',
      trigger: 'event',
      scope: { stores: [], rules: [], buckets: rows.map((b) => b.name) },
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      cloudstack: { schema: '4.21', database: 'cloud', readAt: NOW.toISOString() },
      coverage,
      lifecycle,
      expiredSuppressions: [],
    });
    const plan = (more: object) =>
      planNotifications({ report, ledger: lifecycle.ledger, reportUri: REPORT, notify: undefined, ...more });
    const store = coverage[0]?.store.uuid ?? '';
    // Ten of a store's buckets in one event run: ten tasks (a scoped run knows no store size), no digest.
    expect(kinds(plan({}) as never)).toEqual(Array(10).fill('task'));
    // Twenty told a moment ago: past the 25 of the breaker, one "investigate this store" task.
    const tripped = plan({ recentlyTold: new Map([[store, 20]]) });
    expect(tripped.messages.map((m) => snsSubject(m))).toEqual([expect.stringMatching(/investigate store/)]);
    expect(tripped.trippedStores).toEqual(['minio-1']);
    // Once tripped, the store's later batches say nothing one by one.
    expect(plan({ quietStores: new Set([store]) }).messages).toEqual([]);
  });

  it('honours minSeverity and never tasks a suppressed finding', () => {
    const { plan } = run([gone, half], aScan([], { absenceChecks: absent('photos-prod') }), null, 0, {
      minSeverity: 'high',
    });
    expect(plan.messages.filter((m) => m.kind === 'task').map((m) => m.attributes.rule)).toEqual([
      'bucket-missing-in-store',
    ]);
  });
});

describe("SNS's wire format, both ways (notify/sns.ts)", () => {
  it('a task published on SNS reads back as the same notification: its text, its finding and its report', () => {
    const { plan } = run([aBucket('photos-prod')], aScan([], { absenceChecks: absent('photos-prod') }), null);
    const task = plan.messages[0] as Notification;
    const back = notificationFromSns({
      MessageId: 'm-1',
      Subject: snsSubject(task),
      Message: snsBody(task),
      MessageAttributes: Object.fromEntries(
        Object.entries(task.attributes).map(([k, v]) => [k, { Value: v }]),
      ),
    });
    expect(renderText(back)).toBe(renderText(task));
    expect(back).toMatchObject({
      kind: 'task',
      severity: 'high',
      reportUri: REPORT,
      finding: task.finding,
      attributes: task.attributes,
      findingIds: task.findingIds,
    });
    expect(back.data).toEqual(task.data);
  });
});

describe('Slack messages', () => {
  it('are Block Kit with the plain text part, and escape what Slack would parse', () => {
    const { plan } = run(
      [aBucket('<!channel>&co')],
      aScan([], { absenceChecks: absent('<!channel>&co') }),
      null,
    );
    const message = slackBlocks(plan.messages[0] as NonNullable<(typeof plan.messages)[0]>);
    expect(message.blocks.map((b) => (b as { type: string }).type)).toEqual(['header', 'section', 'context']);
    const section = JSON.stringify(message.blocks[1]);
    expect(section).toContain(escapeSlack('<!channel>&co'));
    expect(section).not.toContain('<!channel>');
    expect(section).not.toContain('--- JSON ---');
  });

  it('never let a name mention, link or close the code block: the fallback text escaped, backticks shown as ˋ', () => {
    const name = '<!channel>```*bold*<mailto:a@b|Click to confirm>`x';
    const { plan } = run([aBucket(name)], aScan([], { absenceChecks: absent(name) }), null);
    const message = slackBlocks(plan.messages[0] as NonNullable<(typeof plan.messages)[0]>);
    expect(message.text).not.toMatch(/<!channel>|<mailto:/);
    const section = (message.blocks[1] as { text: { text: string } }).text.text;
    expect(section.match(/```/g)).toHaveLength(2); // the block's own fences only
    expect(section).not.toMatch(/<!channel>|<mailto:/);
    expect(section).toContain('ˋˋˋ*bold*');
  });

  it('show zero-width and bidi characters as visible escapes in every channel: SNS subject and body, email, Slack', () => {
    // 0.9.0: the subject said `photos?-prod`, the body and Slack `photos-prod` with the space unseen
    const name = 'photos\u200b-prod\u202egnp.exe\u2060\ufeff';
    const { plan } = run([aBucket(name)], aScan([], { absenceChecks: absent(name) }), null);
    const task = plan.messages[0] as NonNullable<(typeof plan.messages)[0]>;
    const slack = slackBlocks(task);
    const seen = {
      snsSubject: snsSubject(task), // the email's subject too
      emailText: renderText(task),
      slackText: slack.text,
      slackBlocks: JSON.stringify(slack.blocks).replace(/\\\\/g, '\\'), // JSON's own escapes undone
    };
    for (const [channel, text] of Object.entries(seen)) {
      expect(INVISIBLE.test(text.replace(/\n/g, '')), channel).toBe(false); // line breaks are the text's own
      expect(text, channel).toContain(
        'photos\\u{200b}-prod\\u{202e}gnp.exe\\u{2060}\\u{feff}'.replace(/\\\\/g, '\\'),
      );
    }
  });
});
