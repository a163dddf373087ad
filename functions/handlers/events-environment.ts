// The events path's settings, from the environment the CDK construct sets: checked at init.
import * as z from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseAt } from '../core/validation.js';

const eventsEnvironmentSchema = z.looseObject({
  EVENT_QUEUE_URL: z.url({ message: 'required: the events queue URL' }),
  WEBHOOK_SECRET_ID: z.string().min(1).optional(),
  SECRETS_CACHE_MS: z
    .string()
    .regex(/^\d+$/, { message: 'expected a whole number of milliseconds' })
    .transform(Number)
    .optional(),
});

export function eventsEnvironment(env: NodeJS.ProcessEnv): z.infer<typeof eventsEnvironmentSchema> {
  return parseAt(eventsEnvironmentSchema, env, 'environment', (m, o) => new ConfigError(m, o));
}
