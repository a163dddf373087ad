// Guarded remediation in AWS. A manual invoke `{ "findingId": "…", "apply": true }` runs the same
// code as `csdrift remediate`; refusals are errors that say why, and nothing is changed. An
// asynchronous invoke `{ "click": … }` from the Slack actions function (which verified Slack's
// signature and claimed the request) carries a button click out as the watcher does, and posts the
// outcome to the click's response_url.
import type { Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import type { ClickOutcome } from '../actions/act.js';
import { actOnClick } from '../actions/act.js';
import { handleClick } from '../actions/slack-actions.js';
import type { RemediationRecord } from '../core/remediation.js';
import { logger, metrics } from '../observability.js';
import { remediate } from '../remediate.js';
import { openStorage } from '../state/open-storage.js';

import { configSecrets } from './secrets.js';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-remediate-secrets'); // what its config names, fetched by middy

const clickSchema = z.strictObject({
  user: z.string().regex(/^[UW][A-Z0-9]{2,20}$/),
  userName: z.string().max(80).optional(),
  action: z.enum(['fix', 'suppress', 'not-drift']),
  findingId: z.string().regex(/^[0-9a-f]{32}$/),
  responseUrl: z.url({ protocol: /^https?$/ }),
  messageBlocks: z.array(z.unknown()).max(50).optional(),
});

const payloadSchema = z.union([
  z.strictObject({
    findingId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a finding id'),
    apply: z.boolean().optional(),
  }),
  z.strictObject({ click: clickSchema }),
]);
export type RemediatePayload = z.infer<typeof payloadSchema>;

export async function remediateFunction(
  event: RemediatePayload,
  context: Context,
): Promise<RemediationRecord | ClickOutcome> {
  const settings = await secrets.settings(context);
  const storage = openStorage(settings.out);
  if ('click' in event) {
    return handleClick(
      event.click,
      (click) => actOnClick({ db: settings.db, config: settings.config, storage, click }),
      (line) => logger.info(line),
      (click, outcome) => {
        const single = metrics.singleMetric();
        single.addDimensions({ action: click.action, outcome, via: 'slack' });
        single.addMetric('Remediations', MetricUnit.Count, 1);
      },
    );
  }
  const { record } = await remediate({
    db: settings.db,
    config: settings.config,
    storage,
    findingId: event.findingId,
    apply: event.apply ?? false,
  });
  logger.info('remediation', {
    findingId: record.findingId,
    applied: record.applied,
    steps: record.steps.map((s) => `${s.step.action}: ${s.outcome}`),
  });
  return record;
}

export const handler = csdriftHandler(remediateFunction, {
  payload: {
    schema: payloadSchema,
    name: 'payload',
    expected: '{ findingId, apply? } or { click } from the Slack actions function',
  },
  secrets: secrets.middleware,
  metrics: false,
});
