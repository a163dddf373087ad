// POST /slack/actions, the same in the watcher and in the AWS function behind its function URL: the
// signature is checked before anything else (401 and nothing changes), a request seen before is a
// replay (401: each signed request is claimed once in the state storage, so a second process or
// invocation refuses it too), and Slack gets its 200 within its 3 seconds; the work is done after,
// and its outcome posted to the click's response_url.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { InvalidInputError, StateConflictError } from '../core/errors.js';
import type { HttpAnswer, WebhookRoute } from '../sources/change-source.js';
import type { StateStorage } from '../state/storage.js';
import type { ClickOutcome } from './act.js';
import { postResponse, slackResponse } from './act.js';
import type { SlackClick } from './slack-click.js';
import { SLACK_MAX_AGE_S, parseClick, signatureProblem } from './slack-click.js';

export const SLACK_ACTIONS_PATH = '/slack/actions';
const CLAIMS = 'slack-clicks/';

export type Accepted = { click: SlackClick } | { refused: HttpAnswer; why: string };

const header = (headers: IncomingHttpHeaders, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** A request checked: its click, or the answer that refuses it and why (for the log; never a secret). */
export async function acceptClick(input: {
  secret: string;
  storage: StateStorage;
  headers: IncomingHttpHeaders;
  body: Buffer | string;
  now: Date;
}): Promise<Accepted> {
  const timestamp = header(input.headers, 'x-slack-request-timestamp');
  const signature = header(input.headers, 'x-slack-signature');
  const problem = signatureProblem(input.secret, { timestamp, signature }, input.body, input.now);
  if (problem) return { refused: { status: 401, body: 'invalid request signature\n' }, why: problem };
  let click: SlackClick;
  try {
    click = parseClick(input.body);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    return { refused: { status: 400, body: 'not a csdrift button click\n' }, why: err.message };
  }
  // Claimed once: the same signed request again (a replay within the 5 minutes) finds its key.
  const key = `${CLAIMS}${timestamp}-${createHash('sha256')
    .update(signature ?? '')
    .digest('hex')
    .slice(0, 32)}.json`;
  try {
    await input.storage.putIf(key, `${JSON.stringify({ at: input.now.toISOString() })}\n`, null);
  } catch (err) {
    if (!(err instanceof StateConflictError)) throw err;
    return { refused: { status: 401, body: 'request already received\n' }, why: 'a replayed request' };
  }
  return { click };
}

/** Claims older than twice the allowed age can no longer match a valid request: removed. */
export async function pruneClaims(storage: StateStorage, now: Date): Promise<void> {
  const before = now.getTime() / 1000 - 2 * SLACK_MAX_AGE_S;
  for (const key of await storage.list(CLAIMS)) {
    const ts = Number(/^slack-clicks\/(\d+)-/.exec(key)?.[1]);
    if (Number.isFinite(ts) && ts < before) await storage.remove(key).catch(() => {});
  }
}

/** Carries a click out and tells Slack; never throws (a failure is said in the message and the log). */
export async function handleClick(
  click: SlackClick,
  act: (click: SlackClick) => Promise<ClickOutcome>,
  log: (line: string) => void,
  observe: (click: SlackClick, outcome: ClickOutcome['outcome']) => void,
): Promise<ClickOutcome> {
  let outcome: ClickOutcome;
  try {
    outcome = await act(click);
  } catch (err) {
    outcome = { outcome: 'failed', text: `${click.action} failed: ${(err as Error).message}` };
  }
  observe(click, outcome.outcome);
  log(
    `slack: ${click.action} on ${click.findingId} by slack:${click.user}: ${outcome.outcome}: ${outcome.text}`,
  );
  try {
    await postResponse(click.responseUrl, slackResponse(outcome, click.messageBlocks));
  } catch (err) {
    log(
      `slack: the outcome of ${click.action} on ${click.findingId} was not shown in Slack: ${(err as Error).message}`,
    );
  }
  return outcome;
}

export interface SlackRouteOptions {
  secret: string;
  storage: StateStorage;
  act: (click: SlackClick) => Promise<ClickOutcome>;
  log: (line: string) => void;
  observe: (click: SlackClick, outcome: ClickOutcome['outcome']) => void;
  /** Told of refused requests (signature, replay, not a click). */
  refused: (why: string) => void;
  now?: () => Date;
}

/** The watcher's route; `idle()` resolves once the clicks in progress are done (the watcher's stop). */
export function slackActionsRoute(options: SlackRouteOptions): WebhookRoute & { idle(): Promise<void> } {
  const inProgress = new Set<Promise<unknown>>();
  const now = options.now ?? (() => new Date());
  return {
    path: SLACK_ACTIONS_PATH,
    refuse(headers) {
      if (header(headers, 'x-slack-signature') && header(headers, 'x-slack-request-timestamp')) return null;
      options.refused('no X-Slack-Signature or X-Slack-Request-Timestamp');
      return { status: 401, body: 'invalid request signature\n' };
    },
    async handle(body, headers) {
      const at = now();
      const accepted = await acceptClick({
        secret: options.secret,
        storage: options.storage,
        headers,
        body,
        now: at,
      });
      if ('refused' in accepted) {
        options.refused(accepted.why);
        return accepted.refused;
      }
      // Answered now; done after (Slack waits 3 seconds, a fix takes longer).
      const work = handleClick(accepted.click, options.act, options.log, options.observe)
        .then(() => pruneClaims(options.storage, at))
        .catch(() => {});
      inProgress.add(work);
      void work.finally(() => inProgress.delete(work));
      return { status: 200, body: '' };
    },
    async idle() {
      await Promise.all([...inProgress]);
    },
  };
}
