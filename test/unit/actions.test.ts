// Actions on findings, pure: Slack's request signature (its own worked example), reading a click,
// the guards of self-healing, suppressions by click, the audit trail, and what each message shows.
import { describe, expect, it } from 'vitest';
import { slackResponse } from '../../functions/actions/act.js';
import { parseClick, signatureProblem } from '../../functions/actions/slack-click.js';
import {
  actionsSetup,
  autoHealsSince,
  healRefusal,
  withAction,
  withSuppression,
  withoutSuppression,
} from '../../functions/core/actions.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import { currentReport } from '../../functions/core/current.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { FindingAction, Ledger } from '../../functions/core/ledger.js';
import { parseLedger } from '../../functions/core/ledger.js';
import { healedMessage, planNotifications, renderText } from '../../functions/core/notifications.js';
import { refusal } from '../../functions/core/remediation.js';
import { withLedgerSuppressions } from '../../functions/core/suppressions.js';
import { slackBlocks } from '../../functions/notify/slack.js';
import { renderMarkdown } from '../../functions/reports/markdown.js';
import { renderHtml } from '../../functions/reports/html.js';
import { NOW, aBucket, aScan, absent, anInput, reportOf } from '../support/builders.js';

// docs.slack.dev/authentication/verifying-requests-from-slack, the worked example.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TS = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIG = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const at = (s: number) => new Date((Number(DOC_TS) + s) * 1000);

const FINDING = '0123456789abcdef0123456789abcdef';
function clickBody(overrides: Record<string, unknown> = {}, action = 'csdrift-fix', value = FINDING) {
  const payload = {
    type: 'block_actions',
    user: { id: 'U024BE7LH', username: 'anna' },
    response_url: 'https://hooks.slack.com/actions/T1/2/abc',
    actions: [{ action_id: action, value, type: 'button' }],
    ...overrides,
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

describe('Slack request signatures', () => {
  it("verifies Slack's own worked example within 5 minutes either side", () => {
    const headers = { timestamp: DOC_TS, signature: DOC_SIG };
    expect(signatureProblem(DOC_SECRET, headers, DOC_BODY, at(60))).toBeNull();
    expect(signatureProblem(DOC_SECRET, headers, Buffer.from(DOC_BODY), at(-299))).toBeNull();
  });

  it.each([
    ['another secret', 'not-the-secret', { timestamp: DOC_TS, signature: DOC_SIG }, 60, /does not match/],
    ['a changed body', DOC_SECRET, { timestamp: DOC_TS, signature: DOC_SIG }, 60, /does not match/, 'x'],
    ['a stale timestamp', DOC_SECRET, { timestamp: DOC_TS, signature: DOC_SIG }, 301, /more than 300 s/],
    ['a future timestamp', DOC_SECRET, { timestamp: DOC_TS, signature: DOC_SIG }, -301, /more than 300 s/],
    ['no signature', DOC_SECRET, { timestamp: DOC_TS }, 0, /no X-Slack-Signature/],
    ['a malformed timestamp', DOC_SECRET, { timestamp: '15314e8', signature: DOC_SIG }, 0, /malformed/],
    ['a short signature', DOC_SECRET, { timestamp: DOC_TS, signature: 'v0=ab' }, 0, /does not match/],
  ])('refuses %s', (_what, secret, headers, offset, problem, extra = '') => {
    expect(signatureProblem(secret, headers, `${DOC_BODY}${extra}`, at(offset))).toMatch(problem);
  });
});

describe('reading a click', () => {
  it('takes the user, the action, the finding id, the response URL and the message blocks', () => {
    const click = parseClick(clickBody({ message: { blocks: [{ type: 'header' }] } }, 'csdrift-not-drift'));
    expect(click).toEqual({
      user: 'U024BE7LH',
      userName: 'anna',
      action: 'not-drift',
      findingId: FINDING,
      responseUrl: 'https://hooks.slack.com/actions/T1/2/abc',
      messageBlocks: [{ type: 'header' }],
    });
  });

  it.each([
    ['no payload', 'token=x', /no payload field/],
    ['a payload that is not JSON', 'payload=%7Bnot', /payload is not JSON/],
    ['another kind of payload', clickBody({ type: 'view_submission' }), /not a block_actions payload/],
    ['a button of another app', clickBody({}, 'approve-deploy'), /approve-deploy is not a csdrift button/],
    ['a value that is no finding id', clickBody({}, 'csdrift-fix', '../../etc'), /not a finding id/],
    [
      'a response URL that is no http(s) URL',
      clickBody({ response_url: 'file:///etc/passwd' }),
      /response_url/,
    ],
  ])('refuses %s with one line', (_what, body, problem) => {
    expect(() => parseClick(body)).toThrow(problem);
  });
});

/** A ledger holding the seed case on one store, as one run left it. */
function seedLedger(): { ledger: Ledger; id: string } {
  const { report, lifecycle } = reportOf(
    evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') }))),
  );
  return { ledger: lifecycle.ledger, id: report.findings[0]?.id as string };
}
const auto = (outcome: FindingAction['outcome'], minutesAgo: number, dryRun = false): FindingAction => ({
  at: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(),
  by: 'auto:failed-delete',
  action: 'fix',
  outcome,
  ...(dryRun ? { dryRun } : {}),
});

describe('the guards of self-healing', () => {
  const on = parseAuditConfig({ remediation: { auto: { failedDeletes: true, maxPerHour: 2 } } });
  const guard = (ledger: Ledger, id: string, config = on, killSwitch = false) =>
    healRefusal({ entry: ledger.entries[id], ledger, config, killSwitch, now: NOW });

  it('acts on an open seed-case finding when it is on, and never otherwise', () => {
    const { ledger, id } = seedLedger();
    expect(guard(ledger, id)).toBeUndefined();
    expect(guard(ledger, id, parseAuditConfig({}))).toMatch(/self-healing is off/);
    expect(guard(ledger, id, on, true)).toMatch(/kill switch/);
    expect(guard(ledger, 'f'.repeat(32))).toMatch(/not open/);
  });

  it('acts once per appearance of a finding: its own failed attempt is never retried by it', () => {
    const { ledger, id } = seedLedger();
    const tried = withAction(ledger, id, auto('failed', -1));
    expect(guard(tried, id)).toMatch(/already tried it at .* \(failed\); a person decides now/);
    // A dry run is not an attempt.
    expect(guard(withAction(ledger, id, auto('refused', 1, true)), id)).toBeUndefined();
  });

  it('counts the attempts of the last hour on the store (not dry runs or refusals) against maxPerHour', () => {
    const { ledger, id } = seedLedger();
    const other = {
      ...(ledger.entries[id] as NonNullable<(typeof ledger.entries)[string]>),
      status: 'resolved' as const,
    };
    const busy: Ledger = {
      ...ledger,
      entries: {
        ...ledger.entries,
        a: { ...other, actions: [auto('done', 10), auto('failed', 30), auto('done', 61)] },
        b: { ...other, actions: [auto('refused', 5), auto('refused', 5, true)] },
      },
    };
    expect(autoHealsSince(busy, ledger.entries[id]?.store.uuid as string, NOW)).toBe(2);
    expect(guard(busy, id)).toMatch(/reached its limit of 2 per hour/);
  });

  it('waives the opt-in and the second sighting for an approval or the failed delete, never for the command line', () => {
    const { ledger, id } = seedLedger();
    const config = parseAuditConfig({});
    expect(refusal(id, ledger.entries[id], ledger, config, true)).toMatch(/remediation is off/);
    expect(
      refusal(id, ledger.entries[id], ledger, config, true, { via: 'slack', user: 'U1' }),
    ).toBeUndefined();
    expect(refusal(id, ledger.entries[id], ledger, config, true, { via: 'auto' })).toBeUndefined();
  });
});

describe('the audit trail and suppressions by click', () => {
  it('a fix told by its own message resolves the entry and marks it told, so no run says it again', () => {
    const { ledger, id } = seedLedger();
    const fixed = withAction(ledger, id, auto('done', 0), { at: NOW.toISOString(), runId: 'r2' });
    expect(fixed.entries[id]).toMatchObject({
      status: 'resolved',
      published: { task: 'r2', resolved: 'r2' },
      actions: [{ by: 'auto:failed-delete', outcome: 'done' }],
    });
    expect(fixed.entries[id]?.finding).toBeUndefined();
    // The next run sees the bucket gone from the database: nothing to tell.
    const { report, lifecycle } = reportOf(
      evaluate(anInput([], aScan([], { absenceChecks: absent('gone') }))),
      { previous: fixed },
    );
    const plan = planNotifications({ report, ledger: lifecycle.ledger, reportUri: 'r', notify: undefined });
    expect(plan.messages.map((m) => m.kind)).toEqual(['digest']);
    expect(lifecycle.ledger.entries[id]?.actions).toHaveLength(1);
  });

  it('keeps the trail on an entry the next run sees again', () => {
    const { ledger, id } = seedLedger();
    const refused = withAction(ledger, id, { ...auto('refused', 0), by: 'slack:U1' });
    const { lifecycle } = reportOf(
      evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') }))),
      { previous: refused },
    );
    expect(lifecycle.ledger.entries[id]?.actions).toMatchObject([{ by: 'slack:U1', outcome: 'refused' }]);
  });

  it('a click suppression applies to the next run, and is lifted by its id', () => {
    const { ledger, id } = seedLedger();
    const { ledger: clicked, suppression } = withSuppression(ledger, {
      findingId: id,
      reason: 'not drift',
      owner: 'slack:U1',
      at: NOW,
      days: null,
    });
    const config = withLedgerSuppressions(parseAuditConfig({}), clicked);
    const next = evaluate({
      ...anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') })),
      config,
    });
    expect(next.findings.map((f) => f.status)).toEqual(['suppressed']);
    expect(suppression?.expires).toBeNull();
    const thirty = withSuppression(clicked, {
      findingId: id,
      reason: 'later',
      owner: 'slack:U1',
      at: NOW,
      days: 30,
    });
    expect(thirty.ledger.suppressions).toHaveLength(1); // one per finding: the newer click replaces it
    expect(thirty.suppression?.expires).toBe(new Date(NOW.getTime() + 30 * 86_400_000).toISOString());
    const lifted = withoutSuppression(thirty.ledger, thirty.suppression?.id.slice(0, 6) as string);
    expect(lifted.removed).toHaveLength(1);
    expect(lifted.ledger.suppressions).toBeUndefined();
    expect(withoutSuppression(thirty.ledger, 'abc').removed).toEqual([]); // too short to name one
  });

  it("reads 0.10's remediations as the command line's actions", () => {
    const { ledger, id } = seedLedger();
    const old = JSON.parse(JSON.stringify(ledger)) as Ledger & {
      entries: Record<string, { remediations: unknown }>;
    };
    (old.entries[id] as { remediations: unknown }).remediations = [
      { at: NOW.toISOString(), applied: false, outcome: 'planned' },
      { at: NOW.toISOString(), applied: true, outcome: 'failed', detail: 'HTTP 530' },
    ];
    const read = parseLedger(JSON.stringify(old), 'ledger.json');
    expect(read.entries[id]?.actions).toEqual([
      { at: NOW.toISOString(), by: 'cli', action: 'fix', outcome: 'failed', detail: 'HTTP 530' },
    ]);
    expect(read.entries[id]).not.toHaveProperty('remediations');
  });

  it('the current view shows each open finding’s trail and the last 30 days of actions, resolved ones too', () => {
    const { ledger, id } = seedLedger();
    const withTrail = withAction(
      withAction(ledger, id, { ...auto('refused', 0), by: 'slack:U1', action: 'suppress' }),
      id,
      { ...auto('done', 60 * 24 * 40) },
    );
    const view = currentReport(withTrail, NOW);
    expect(view.findings[0]?.actions).toHaveLength(2);
    expect(view.actions?.map((a) => [a.findingId, a.by])).toEqual([[id, 'slack:U1']]);
    expect(renderMarkdown(view)).toMatch(
      /\*\*Actions \(last 30 days\)\*\*\n\n- .* slack:U1 suppress: \*\*refused\*\*/,
    );
    expect(renderHtml(view)).toContain('<h2>Actions (last 30 days)</h2>');
  });
});

describe('the set-up of self-healing and the buttons', () => {
  it('refuses self-healing without the CloudStack API, and says what half a Slack set-up does', () => {
    expect(actionsSetup(parseAuditConfig({ remediation: { auto: { failedDeletes: true } } })).errors).toEqual(
      [expect.stringMatching(/^remediation.auto.failedDeletes: needs the CloudStack API/)],
    );
    expect(
      actionsSetup(parseAuditConfig({ remediation: { auto: { failedDeletes: true, dryRun: true } } })).errors,
    ).toEqual([]);
    expect(actionsSetup(parseAuditConfig({ notify: { slack: { signingSecret: 's' } } })).warnings).toEqual([
      expect.stringMatching(/approvers is empty: every click is refused/),
    ]);
    expect(actionsSetup(parseAuditConfig({ remediation: { approvers: ['U024BE7LH'] } })).warnings).toEqual([
      expect.stringMatching(/no effect without notify.slack.signingSecret/),
    ]);
    const full = actionsSetup(
      parseAuditConfig({
        cloudstack: { apiUrl: 'https://cs.example/client/api', apiKey: 'k', secretKey: 's' },
        notify: { slack: { signingSecret: 's' } },
        remediation: { approvers: ['U024BE7LH'], auto: { failedDeletes: true, maxPerHour: 3 } },
      }),
    );
    expect(full).toEqual({
      errors: [],
      warnings: [],
      summary: [
        'self-healing of failed deletes: on, at most 3 per store per hour',
        'Slack buttons: on, 1 approver(s)',
      ],
    });
  });

  it('refuses an approver that is no Slack user id, naming the path', () => {
    expect(() => parseAuditConfig({ remediation: { approvers: ['@anna'] } })).toThrow(
      /remediation.approvers.0: expected a Slack user id such as U024BE7LH/,
    );
  });
});

describe('what the messages show', () => {
  const { report, lifecycle } = reportOf(
    evaluate(anInput([aBucket('gone')], aScan([], { absenceChecks: absent('gone') }))),
  );
  const plan = planNotifications({ report, ledger: lifecycle.ledger, reportUri: 'r', notify: undefined });
  const task = plan.messages.find((m) => m.kind === 'task');

  it('tasks carry the three buttons only with a signing secret, Fix only where the rule can fix', () => {
    const plain = slackBlocks(task as NonNullable<typeof task>);
    const interactive = slackBlocks(task as NonNullable<typeof task>, [], { interactive: true });
    expect(plain.blocks.some((b) => (b as { type: string }).type === 'actions')).toBe(false);
    const actions = interactive.blocks.find((b) => (b as { type: string }).type === 'actions') as {
      elements: { action_id: string; value: string; confirm?: unknown }[];
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual([
      'csdrift-fix',
      'csdrift-suppress-30d',
      'csdrift-not-drift',
    ]);
    expect(actions.elements[0]?.confirm).toBeDefined(); // Slack asks before a fix
    const unfixable = {
      ...(task as NonNullable<typeof task>),
      finding: { ...task?.finding, rule: 'bucket-unmanaged' },
    };
    const noFix = slackBlocks(unfixable as NonNullable<typeof task>, [], { interactive: true }).blocks.find(
      (b) => (b as { type: string }).type === 'actions',
    ) as { elements: { action_id: string }[] };
    expect(noFix.elements.map((e) => e.action_id)).toEqual(['csdrift-suppress-30d', 'csdrift-not-drift']);
  });

  it('a healed message says what was wrong, what was done, by whom, and is no task', () => {
    const healed = healedMessage(
      {
        finding: report.findings[0] as NonNullable<(typeof report.findings)[0]>,
        by: 'auto:failed-delete',
        at: NOW.toISOString(),
        steps: ['re-create: created gone', 'deleteBucket: CloudStack deleted the bucket'],
      },
      report,
      'r',
    );
    expect(healed.kind).toBe('healed');
    expect(healed.attributes.kind).toBe('healed');
    expect(renderText(healed)).toContain('HEALED: bucket-missing-in-store');
    expect(renderText(healed)).toContain(`${NOW.toISOString()} by auto:failed-delete`);
    expect(healed.data).toMatchObject({ kind: 'healed', findingId: report.findings[0]?.id });
  });

  it("a click's outcome replaces the buttons when done and keeps them when refused; a refusal of who clicked is ephemeral", () => {
    const blocks = [{ type: 'header' }, { type: 'actions' }];
    const done = slackResponse({ outcome: 'done', text: 'fixed by @anna <b>' }, blocks);
    expect(done).toMatchObject({
      replace_original: true,
      text: ':white_check_mark: fixed by @anna &lt;b&gt;',
    });
    expect((done.blocks as { type: string }[]).map((b) => b.type)).toEqual(['header', 'context']);
    const refused = slackResponse({ outcome: 'refused', text: 'no' }, blocks);
    expect((refused.blocks as { type: string }[]).map((b) => b.type)).toEqual([
      'header',
      'actions',
      'context',
    ]);
    expect(slackResponse({ outcome: 'refused', text: 'no', ephemeral: true }, blocks)).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'no',
    });
  });
});
