// Guarded remediation from a manual invoke: `{ "findingId": "…", "apply": true }`. The same code as
// `csdrift remediate`; refusals are errors that say why, and nothing is changed.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { parseAt } from '../core/validation.js';
import type { RemediationRecord } from '../core/remediation.js';
import { logger } from '../observability.js';
import { remediate } from '../remediate.js';
import { openStorage } from '../state/open-storage.js';
import { functionSettings } from './environment.js';
import { auditSecrets, fetchedSecrets } from './secrets.js';

const payloadSchema = z.strictObject({
  findingId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a finding id'),
  apply: z.boolean().optional(),
});
export type RemediatePayload = z.infer<typeof payloadSchema>;

export async function remediateFunction(
  event: RemediatePayload,
  context: Context,
): Promise<RemediationRecord> {
  const secrets = fetchedSecrets(context);
  const settings = functionSettings(process.env, secrets.stores);
  const { record } = await remediate({
    db: secrets.db,
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

export const handler = middy(remediateFunction)
  .before((request) => {
    request.event = parseAt(
      payloadSchema,
      request.event,
      'payload',
      (m, o) => new InvalidInputError(`${m}; expected { findingId, apply? }`, o),
    );
  })
  .use(injectLambdaContext(logger))
  .use(auditSecrets('csdrift-remediate-secrets'));
