// Guarded remediation from a manual invoke: `{ "findingId": "…", "apply": true }`. The same code as
// `csdrift remediate`; refusals are errors that say why, and nothing is changed.
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { RemediationRecord } from '../core/remediation.js';
import { logger } from '../observability.js';
import { remediate } from '../remediate.js';
import { openStorage } from '../state/open-storage.js';

import { configSecrets } from './secrets.js';
import { csdriftHandler } from './handler.js';

const secrets = configSecrets('csdrift-remediate-secrets'); // what its config names, fetched by middy

const payloadSchema = z.strictObject({
  findingId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a finding id'),
  apply: z.boolean().optional(),
});
export type RemediatePayload = z.infer<typeof payloadSchema>;

export async function remediateFunction(
  event: RemediatePayload,
  context: Context,
): Promise<RemediationRecord> {
  const settings = await secrets.settings(context);
  const { record } = await remediate({
    db: settings.db,
    config: settings.config,
    storage: openStorage(settings.out),
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
  payload: { schema: payloadSchema, name: 'payload', expected: '{ findingId, apply? }' },
  secrets: secrets.middleware,
  metrics: false,
});
