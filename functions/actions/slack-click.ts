// A click on a task's button, as Slack's interactivity sends it: verified first (api.slack.com,
// "Verifying requests from Slack": `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the
// app's signing secret, the timestamp within 5 minutes), then read (the body is form-encoded with
// `payload` = the JSON of a `block_actions` payload). Nothing is read from a request that fails.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { parseJson } from '../core/validation.js';

/** How far a request's timestamp may be from now (Slack's own advice: 5 minutes). */
export const SLACK_MAX_AGE_S = 300;

export type ClickAction = 'fix' | 'suppress' | 'not-drift';

const ACTION_IDS: Record<string, ClickAction> = {
  'csdrift-fix': 'fix',
  'csdrift-suppress-30d': 'suppress',
  'csdrift-not-drift': 'not-drift',
};

export interface SlackClick {
  /** The Slack user id (U…, W…) who clicked. */
  user: string;
  userName?: string;
  action: ClickAction;
  findingId: string;
  /** Where the outcome goes: Slack's per-interaction URL (valid 30 minutes, 5 posts). */
  responseUrl: string;
  /** The message's blocks, to show again with the outcome in place of the buttons. */
  messageBlocks?: unknown[];
}

/** Why the signature does not hold, or null when it does. Constant time over the signature. */
export function signatureProblem(
  secret: string,
  headers: { timestamp?: string | undefined; signature?: string | undefined },
  rawBody: Buffer | string,
  now: Date,
): string | null {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return 'no X-Slack-Signature or X-Slack-Request-Timestamp';
  if (!/^\d{1,12}$/.test(timestamp)) return 'a malformed X-Slack-Request-Timestamp';
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_MAX_AGE_S)
    return `a timestamp more than ${SLACK_MAX_AGE_S} s from now (stale or replayed)`;
  const expected = Buffer.from(
    `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return 'a signature that does not match';
  return null;
}

const payloadSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({
    id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/),
    username: z.string().max(80).optional(),
  }),
  response_url: z.url({ protocol: /^https?$/ }).max(2048),
  actions: z
    .array(z.looseObject({ action_id: z.string().max(255), value: z.string().max(2000).optional() }))
    .min(1),
  message: z.looseObject({ blocks: z.array(z.unknown()).max(50).optional() }).optional(),
});

/** The click in a verified body; InvalidInputError naming what is wrong with it. */
export function parseClick(rawBody: Buffer | string): SlackClick {
  const form = new URLSearchParams(rawBody.toString());
  const text = form.get('payload');
  if (text === null) throw new InvalidInputError('Slack action: no payload field in the form body');
  const payload = parseJson(
    payloadSchema,
    text,
    (problem, cause) =>
      new InvalidInputError(
        `Slack action: ${problem.kind === 'not-json' ? 'payload is not JSON' : `not a block_actions payload (${problem.detail})`}`,
        { cause },
      ),
  );
  const first = payload.actions[0] as { action_id: string; value?: string };
  const action = ACTION_IDS[first.action_id];
  if (!action)
    throw new InvalidInputError(`Slack action: ${first.action_id.slice(0, 40)} is not a csdrift button`);
  if (!first.value || !/^[0-9a-f]{32}$/.test(first.value))
    throw new InvalidInputError('Slack action: its value is not a finding id');
  return {
    user: payload.user.id,
    ...(payload.user.username ? { userName: payload.user.username } : {}),
    action,
    findingId: first.value,
    responseUrl: payload.response_url,
    ...(payload.message?.blocks ? { messageBlocks: payload.message.blocks } : {}),
  };
}
