// What a verified click does: only an approver (remediation.approvers) may act. Fix is the guarded
// remediation of `csdrift remediate --apply`, the approval standing in for the opt-in and the second
// sighting (a fresh audit must still find it); Suppress 30 days and Not drift write a suppression to
// the ledger, which the next run of any kind applies. Every action of an approver is recorded on its
// finding; the outcome is one line for the message the click came from.
import type { DbUrl } from '../cloudstack/db-url.js';
import { withAction, withSuppression } from '../core/actions.js';
import type { AuditConfig } from '../core/config.js';
import { RemediationRefusedError } from '../core/errors.js';
import type { FindingAction } from '../core/ledger.js';
import { describeStep } from '../core/remediation.js';
import { visible } from '../core/shell.js';
import { escapeSlack } from '../notify/slack.js';
import { writeCurrentView } from '../publish.js';
import { remediate } from '../remediate.js';
import { changeLedger, readLedger } from '../state/ledger-store.js';
import type { StateStorage } from '../state/storage.js';
import type { SlackClick } from './slack-click.js';

export interface ClickRequest {
  db: DbUrl;
  config: AuditConfig;
  storage: StateStorage;
  click: SlackClick;
  now?: () => Date;
  retryBaseDelayMs?: number;
}

export interface ClickOutcome {
  outcome: FindingAction['outcome'];
  /** One line for people, as plain text (Slack escaping is the response's). */
  text: string;
  /** Said to the clicker alone (a refusal of who they are), not in the channel's message. */
  ephemeral?: boolean;
}

const hhmm = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;

export async function actOnClick(request: ClickRequest): Promise<ClickOutcome> {
  const { click, config } = request;
  const now = request.now ?? (() => new Date());
  const who = `@${click.userName ?? click.user}`;
  if (!config.remediation.approvers.includes(click.user))
    return {
      outcome: 'refused',
      ephemeral: true,
      text: `Only csdrift's approvers (remediation.approvers) may act on its tasks; ${who} is not one. Nothing was changed.`,
    };
  if (click.action === 'fix') return fix(request, who, now);

  const stored = await readLedger(request.storage);
  const entry = stored.ledger?.entries[click.findingId];
  // Whether the finding is current is what the last run that covered its bucket and rule saw.
  if (!stored.ledger || !entry || (entry.status !== 'new' && entry.status !== 'open'))
    return {
      outcome: 'refused',
      text: `${who} pressed ${click.action === 'suppress' ? 'Suppress 30 days' : 'Not drift'} at ${hhmm(now())}: the finding is ${entry?.status ?? 'not in the ledger'} now, not open; nothing was changed.`,
    };
  const at = now();
  const days = click.action === 'suppress' ? 30 : null;
  const reason =
    click.action === 'suppress'
      ? `suppressed for 30 days from Slack by ${who}`
      : `not drift, said from Slack by ${who}`;
  let id = '';
  const written = await changeLedger(
    request.storage,
    { ledger: stored.ledger, version: stored.version },
    (current) => {
      const { ledger, suppression } = withSuppression(current, {
        findingId: click.findingId,
        reason,
        owner: `slack:${click.user}`,
        at,
        days,
      });
      id = suppression?.id ?? '';
      return withAction(ledger, click.findingId, {
        at: at.toISOString(),
        by: `slack:${click.user}`,
        action: click.action,
        outcome: 'done',
        detail: `${reason} (suppression ${id})`,
      });
    },
  );
  await writeCurrentView(request.storage, ['json', 'html'], written, config.pricing);
  const until =
    days === null
      ? 'until a person removes it'
      : `until ${new Date(at.getTime() + days * 86_400_000).toISOString().slice(0, 10)}`;
  return {
    outcome: 'done',
    text: `${click.action === 'suppress' ? 'suppressed' : 'marked not drift'} by ${who} at ${hhmm(at)}: ${until}, from the next run on (csdrift suppressions remove ${id} lifts it).`,
  };
}

async function fix(request: ClickRequest, who: string, now: () => Date): Promise<ClickOutcome> {
  try {
    const done = await remediate({
      db: request.db,
      config: request.config,
      storage: request.storage,
      findingId: request.click.findingId,
      apply: true,
      approval: { via: 'slack', user: request.click.user },
      ...(request.now ? { now: request.now } : {}),
      ...(request.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: request.retryBaseDelayMs } : {}),
    });
    const failed = done.record.steps.findIndex((s) => s.outcome === 'failed');
    if (done.fixed)
      return {
        outcome: 'done',
        text: `fixed by ${who} at ${hhmm(now())}: ${fixedWhat(done.finding.rule)} (${done.record.steps.map((s) => s.detail).join('; ')})`,
      };
    const step = done.record.steps[failed];
    return {
      outcome: 'failed',
      text: `Fix by ${who} failed at ${hhmm(now())}, step ${failed + 1} (${step ? describeStep(step.step) : '?'}): ${step?.detail ?? 'failed'}. The steps before it stand; see the finding's trail in the report.`,
    };
  } catch (err) {
    if (!(err instanceof RemediationRefusedError)) throw err;
    return { outcome: 'refused', text: `${who} pressed Fix at ${hhmm(now())}: ${err.message}` };
  }
}

function fixedWhat(rule: string): string {
  return rule === 'bucket-missing-in-store'
    ? 'bucket removed from CloudStack'
    : 'CloudStack re-applied its recorded value in the store';
}

/** The message Slack shows after the click, as the body posted to its response_url. */
export function slackResponse(
  outcome: ClickOutcome,
  original: unknown[] | undefined,
): Record<string, unknown> {
  const escaped = escapeSlack(visible(outcome.text));
  if (outcome.ephemeral) return { response_type: 'ephemeral', replace_original: false, text: escaped };
  const icon = { done: ':white_check_mark:', refused: ':no_entry_sign:', failed: ':x:' }[outcome.outcome];
  if (!original) return { replace_original: false, text: `${icon} ${escaped}` };
  // Done: the buttons go, the outcome takes their place. Refused or failed: they stay, to try again.
  const kept =
    outcome.outcome === 'done'
      ? original.filter((b) => (b as { type?: string }).type !== 'actions')
      : original;
  return {
    replace_original: true,
    text: `${icon} ${escaped}`,
    blocks: [
      ...kept,
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${icon} ${escaped}`.slice(0, 2900) }] },
    ],
  };
}

/** Posts the outcome to the click's response_url; the error names the HTTP status, never the URL. */
export async function postResponse(responseUrl: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  }).catch((err: unknown) => {
    throw new Error(`Slack's response_url could not be reached (${(err as Error).name})`);
  });
  await response.text().catch(() => '');
  if (!response.ok) throw new Error(`Slack's response_url answered HTTP ${response.status}`);
}
