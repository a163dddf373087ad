// A button click as Slack's interactivity sends it (api.slack.com, "Handling user interaction":
// a form-encoded body whose `payload` is the JSON of a block_actions payload), signed as Slack signs
// it ("Verifying requests from Slack": X-Slack-Signature = v0= + hex HMAC-SHA256 of
// `v0:<timestamp>:<body>` under the app's signing secret). For the tests and the bench.
import { createHmac } from 'node:crypto';

export type CsdriftButton = 'csdrift-fix' | 'csdrift-suppress-30d' | 'csdrift-not-drift';

export interface SignedClick {
  body: string;
  headers: Record<string, string>;
}

export function signedClick(options: {
  secret: string;
  responseUrl: string;
  action: CsdriftButton;
  findingId: string;
  user: string;
  userName?: string;
  /** Seconds since the epoch; now unless given (a stale one for the tests that refuse it). */
  timestamp?: number;
  /** The message the button is on, as Slack sends it back. */
  withMessage?: boolean;
}): SignedClick {
  const payload = {
    type: 'block_actions',
    user: { id: options.user, username: options.userName ?? 'ops-anna', team_id: 'T0001' },
    api_app_id: 'A0001',
    container: { type: 'message', message_ts: '1733300000.000100', channel_id: 'C0001' },
    response_url: options.responseUrl,
    ...(options.withMessage
      ? {
          message: {
            blocks: [
              { type: 'header', text: { type: 'plain_text', text: 'task' } },
              { type: 'actions', block_id: `csdrift-${options.findingId}`, elements: [] },
            ],
          },
        }
      : {}),
    actions: [
      { type: 'button', action_id: options.action, block_id: 'b', value: options.findingId, action_ts: '1' },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', options.secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
  };
}

/** POSTs it to a watcher's /slack/actions: the status and the answer's text. */
export async function postClick(
  listening: string,
  click: SignedClick,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://${listening}/slack/actions`, {
    method: 'POST',
    headers: click.headers,
    body: click.body,
  });
  return { status: response.status, text: await response.text() };
}
