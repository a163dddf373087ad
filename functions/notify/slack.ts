// The run digest and new tasks as Block Kit messages to a Slack incoming webhook. The webhook URL
// is a secret: it is never part of an error, a log line or a report.
import { visible } from '../core/shell.js';
import { redact } from '../common/redact.js';
import type { Notification } from '../core/notifications.js';
import { renderText } from '../core/notifications.js';
import type { Notifier } from './notifier.js';
import type { RuleId } from '../core/model.js';
import { RULES } from '../core/rules/index.js';

/** More new tasks than this go into the digest as a list instead of one message each. */
export const SLACK_GROUP_AT = 3;
const SECTION_MAX = 2900; // Slack refuses section text over 3000 characters
const MAX_TRIES = 4;
const MAX_WAIT_S = 30;

/** Slack's mrkdwn needs only &, < and > escaped; everything else stays as the user wrote it. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for inside a code block: escaped, and a backtick shown as `ˋ` (U+02CB), so that no name can
 * close the block and have the rest read as formatting, links or mentions.
 */
export function inCodeBlock(text: string): string {
  return escapeSlack(text).replace(/`/g, '\u02cb');
}

function sectionText(text: string): string {
  return text.length > SECTION_MAX ? `${text.slice(0, SECTION_MAX)}…` : text;
}

/** The title as Slack shows it: invisible characters as escapes; the fallback text escapes mrkdwn too. */
function titleOf(m: Notification): string {
  return visible(m.title);
}

/** The buttons' action ids (CONTRACT "Remediation: self-healing and approvals"); each button's value is the finding id. */
export const SLACK_ACTIONS = {
  fix: 'csdrift-fix',
  suppress: 'csdrift-suppress-30d',
  notDrift: 'csdrift-not-drift',
} as const;

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });

/**
 * A task's buttons: Fix only where its rule has an automated remediation (behind Slack's own
 * confirmation dialog), Suppress 30 days, and Not drift (suppressed until a person removes it).
 */
export function taskButtons(finding: { id: string; bucket: string | null; store: string }, fixable: boolean) {
  const where = `${finding.bucket ?? '-'} on ${finding.store}`;
  return {
    type: 'actions',
    block_id: `csdrift-${finding.id}`,
    elements: [
      ...(fixable
        ? [
            {
              type: 'button',
              action_id: SLACK_ACTIONS.fix,
              text: plain('Fix'),
              style: 'primary',
              value: finding.id,
              confirm: {
                title: plain('Fix this drift?'),
                text: {
                  type: 'mrkdwn',
                  text: escapeSlack(
                    visible(
                      `csdrift audits ${where} again and, if it still finds the drift, carries out the steps above.`,
                    ),
                  ).slice(0, 300),
                },
                confirm: plain('Fix'),
                deny: plain('Cancel'),
              },
            },
          ]
        : []),
      {
        type: 'button',
        action_id: SLACK_ACTIONS.suppress,
        text: plain('Suppress 30 days'),
        value: finding.id,
      },
      { type: 'button', action_id: SLACK_ACTIONS.notDrift, text: plain('Not drift'), value: finding.id },
    ],
  };
}

export interface SlackRenderOptions {
  /** Tasks carry buttons (a signing secret is configured, so clicks can be verified). */
  interactive?: boolean;
}

export function slackBlocks(
  m: Notification,
  extraLines: string[] = [],
  options: SlackRenderOptions = {},
): { text: string; blocks: unknown[] } {
  const icon = {
    task: ':rotating_light:',
    resolved: ':white_check_mark:',
    digest: ':bar_chart:',
    healed: ':adhesive_bandage:',
  }[m.kind];
  const extra = extraLines.length ? `\n\n${extraLines.join('\n')}` : '';
  const body = sectionText(`${sectionText(renderText(m))}${extra}`);
  const buttons =
    options.interactive && m.kind === 'task' && m.finding && !m.investigate
      ? [taskButtons(m.finding, Boolean(RULES[m.finding.rule as RuleId]?.remediation))]
      : [];
  return {
    text: escapeSlack(titleOf(m)), // the notification's fallback text: parsed as mrkdwn by Slack
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: titleOf(m).slice(0, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: `${icon} ${'```'}${inCodeBlock(body)}${'```'}` } },
      ...buttons,
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `csdrift · ${m.kind} · ${escapeSlack(visible(m.attributes.store))}` },
        ],
      },
    ],
  };
}

export class SlackNotifier implements Notifier {
  readonly channel = 'slack';

  constructor(
    private readonly webhookUrl: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly render: SlackRenderOptions = {},
  ) {}

  async deliver(messages: Notification[]) {
    const tasks = messages.filter((m) => m.kind === 'task');
    const resolved = messages.filter((m) => m.kind === 'resolved');
    const digest = messages.find((m) => m.kind === 'digest');
    const healed = messages.filter((m) => m.kind === 'healed');
    const sent: Notification[] = [];
    const failures: string[] = [];
    const post = async (m: Notification, extra: string[] = []) => {
      const error = await this.post(slackBlocks(m, extra, this.render));
      if (error) failures.push(`Slack refused "${titleOf(m)}": ${error}`);
      else sent.push(m);
      return !error;
    };
    for (const h of healed) await post(h);
    // Grouped tasks lose their buttons: with a signing secret, each task is its own message.
    const grouped = tasks.length > SLACK_GROUP_AT && !this.render.interactive;
    if (!grouped) for (const t of tasks) await post(t);
    if (digest) {
      const lines = [
        ...(grouped
          ? [
              'New tasks:',
              ...tasks.slice(0, 20).map((t) => `• ${titleOf(t)}`),
              ...(tasks.length > 20 ? [`• … and ${tasks.length - 20} more`] : []),
            ]
          : []),
        ...(resolved.length ? ['Resolved:', ...resolved.slice(0, 20).map((r) => `• ${titleOf(r)}`)] : []),
      ];
      // The grouped tasks and the resolved ones are told by the digest, so they count as sent with it.
      if (await post(digest, lines)) sent.push(...(grouped ? tasks : []), ...resolved);
    }
    return { sent, failures };
  }

  private webhookParts(): string[] {
    try {
      const url = new URL(this.webhookUrl);
      return [this.webhookUrl, url.pathname, ...url.pathname.split('/').filter((p) => p.length >= 6)];
    } catch {
      return [this.webhookUrl];
    }
  }

  /** One POST, retried after a 429 for as long as Slack's Retry-After says (capped); the error text never has the URL. */
  private async post(payload: unknown): Promise<string | undefined> {
    for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        return `the webhook could not be reached (${(err as Error).name})`;
      }
      // Slack's answer is a third party's text: the webhook's URL and path are taken out before it is kept.
      const text = redact(await response.text(), this.webhookParts(), 200);
      if (response.ok) return undefined;
      if (response.status === 429 && attempt < MAX_TRIES) {
        const wait = Math.min(Number(response.headers.get('retry-after')) || 1, MAX_WAIT_S);
        await this.sleep(wait * 1000);
        continue;
      }
      return `HTTP ${response.status} ${text}`;
    }
    return 'still rate-limited (HTTP 429) after retries';
  }
}
