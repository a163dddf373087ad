// The one way a Lambda function is put together (after Powertools): its payload checked first,
// before any secret is read; the logger's context; its secrets fetched and cached by middy; its
// metrics flushed; and a known fault reported with its stable code as the error type, so that a
// Step Functions catch or an alarm can match `csdrift.state-conflict` rather than a class name.
import middy from '@middy/core';
import type { MiddlewareObj, MiddyfiedHandler } from '@middy/core';

type PluginObject = NonNullable<Parameters<typeof middy>[1]>;
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { CsdriftError } from '../core/errors.js';
import { logger, metrics } from '../observability.js';

export interface HandlerSpec<Event> {
  /** Checks the payload and returns it typed; throws (InvalidInputError) before anything else runs. */
  parse?: (event: unknown) => Event;
  /** The middleware that fetches the function's secrets onto the context (typed by what it puts there). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each secrets middleware types its own context
  secrets?: MiddlewareObj<any, any, Error, any, any>;
  /** Flush Powertools metrics after each invocation (every function but remediate and the Slack one). */
  metrics?: boolean;
  /** middy's own options (an early timeout, say). */
  options?: PluginObject;
}

/** What a Lambda shows as errorType for a fault of csdrift: its stable code, prefixed. */
export function errorTypeOf(err: CsdriftError): string {
  return `csdrift.${err.code}`;
}

/** Reports a CsdriftError under its code (the message and the cause stay as they were). */
const errorType: MiddlewareObj = {
  onError: (request) => {
    const err = request.error;
    if (err instanceof CsdriftError) err.name = errorTypeOf(err);
  },
};

export function csdriftHandler<Event, Result>(
  fn: (event: Event, context: Context, options: { signal: AbortSignal }) => Promise<Result>,
  spec: HandlerSpec<Event> = {},
): MiddyfiedHandler<unknown, Result, Error, Context> {
  // What arrives is unchecked until `parse` (a before-middleware) has made it an Event.
  const handler = middy(fn, spec.options) as unknown as MiddyfiedHandler<unknown, Result, Error, Context>;
  const parse = spec.parse;
  if (parse)
    handler.before((request) => {
      request.event = parse(request.event); // refused here: before any secret is read
    });
  handler.use(errorType).use(injectLambdaContext(logger));
  if (spec.secrets) handler.use(spec.secrets);
  if (spec.metrics !== false) handler.use(logMetrics(metrics));
  return handler;
}
