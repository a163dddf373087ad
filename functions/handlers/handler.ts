// The one way a Lambda function is put together (after Powertools): its payload checked first by
// Powertools' parser against its schema, before any secret is read; the logger's context; its
// secrets fetched and cached by middy; its metrics flushed; and a known fault reported with its
// stable code as the error type, so that a Step Functions catch or an alarm can match
// `csdrift.state-conflict` rather than a class name.
import middy from '@middy/core';
import type { MiddlewareObj, MiddyfiedHandler } from '@middy/core';

type PluginObject = NonNullable<Parameters<typeof middy>[1]>;
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ParseError } from '@aws-lambda-powertools/parser';
import { parser } from '@aws-lambda-powertools/parser/middleware';
import type * as z from 'zod';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { CsdriftError, InvalidInputError } from '../core/errors.js';
import { firstIssue } from '../core/validation.js';
import { logger, metrics } from '../observability.js';

/** What a function accepts, checked before anything else runs: a refusal names the path and what is expected. */
export interface PayloadSpec<Event> {
  schema: z.ZodType<Event>;
  /** How the refusal names what arrived: `payload`, `fan-out step`, `SQS event`. */
  name: string;
  /** What would have been accepted, said after the problem. */
  expected?: string;
}

export interface HandlerSpec<Event> {
  payload?: PayloadSpec<Event>;
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

/** A payload the parser refused, as one line naming the first problem's path (never its value). */
function refusal(err: ParseError, spec: PayloadSpec<unknown>): InvalidInputError {
  // The parser hands over the schema's own issues (zod's, through Standard Schema).
  const issues = Array.isArray(err.cause) ? (err.cause as z.ZodError['issues']) : [];
  const problem = firstIssue({ issues });
  return new InvalidInputError(
    `${spec.name}: ${problem}${spec.expected ? `; expected ${spec.expected}` : ''}`,
    {
      cause: err,
    },
  );
}

/**
 * Reports a CsdriftError under its code (the message and the cause stay as they were); a payload the
 * parser refused becomes an InvalidInputError first.
 */
function errorType(payload: PayloadSpec<unknown> | undefined): MiddlewareObj {
  return {
    onError: (request) => {
      if (payload && request.error instanceof ParseError) request.error = refusal(request.error, payload);
      const err = request.error;
      if (err instanceof CsdriftError) err.name = errorTypeOf(err);
    },
  };
}

export function csdriftHandler<Event, Result>(
  fn: (event: Event, context: Context, options: { signal: AbortSignal }) => Promise<Result>,
  spec: HandlerSpec<Event> = {},
): MiddyfiedHandler<unknown, Result, Error, Context> {
  // What arrives is unchecked until `parse` (a before-middleware) has made it an Event.
  const handler = middy(fn, spec.options) as unknown as MiddyfiedHandler<unknown, Result, Error, Context>;
  // errorType first: its onError runs last, after the parser's, and sees the refusal.
  handler.use(errorType(spec.payload as PayloadSpec<unknown> | undefined));
  if (spec.payload) handler.use(parser({ schema: spec.payload.schema })); // before any secret is read
  handler.use(injectLambdaContext(logger));
  if (spec.secrets) handler.use(spec.secrets);
  if (spec.metrics !== false) handler.use(logMetrics(metrics));
  return handler;
}
