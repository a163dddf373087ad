// Every boundary (config, environment, payloads, store answers, files read back) is checked by a zod
// schema, and its first problem is told the same way everywhere: one line, `where: path: what`.
import * as z from 'zod';

/** The first issue of a zod error as `path: message` (the path `(top level)` when there is none). */
export function firstIssue(
  error: Pick<z.ZodError, 'issues'>,
  labels: { unknownKeys?: (path: string, keys: string) => string | undefined } = {},
): string {
  const issue = error.issues[0];
  if (!issue) return '(top level): invalid';
  const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `${path}: ${labels.unknownKeys?.(path, keys) ?? `unknown key ${keys}`}`;
  }
  // zod says "Invalid input: expected string, received undefined" of a field that is not there.
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return `${path}: required (${issue.expected === 'string' ? 'text' : `a ${issue.expected}`})`;
  return `${path}: ${issue.message}`;
}

/**
 * Parses `raw` with `schema`, or throws `toError(message)` naming where it came from. The cause of
 * the thrown error is the zod error, whose issues name paths only: no value is echoed.
 */
export function parseAt<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  where: string,
  toError: (message: string, options: { cause: unknown }) => Error,
  labels?: Parameters<typeof firstIssue>[1],
): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw toError(`${where}: ${firstIssue(result.error, labels)}`, { cause: result.error });
}

/** A zod schema for text that must hold JSON of the given shape (an environment variable, a secret's string). */
export function jsonText<S extends z.ZodType>(schema: S) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** Why JSON text was not what was expected: not JSON at all, or JSON of another shape. */
export interface JsonProblem {
  kind: 'not-json' | 'shape';
  /** `not valid JSON (…)`, or the first issue as `path: message`. */
  detail: string;
}

/**
 * JSON text checked against a schema: the one way csdrift reads JSON it did not just build (state
 * files, cursors, stored reports and scans, bus messages and feed lines, secrets, store answers).
 * Each caller says what the failure means where it is, through `fail`; the cause is kept, and no
 * message quotes the text (it may hold a secret).
 */
export function parseJson<S extends z.ZodType>(
  schema: S,
  text: string,
  fail: (problem: JsonProblem, cause: unknown) => Error,
  labels?: Parameters<typeof firstIssue>[1],
): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // Only where the parser stopped: its message quotes the text around it, which may be a secret.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    const where = at ? `at position ${at}` : 'the parser gives no position';
    throw fail({ kind: 'not-json', detail: `not valid JSON (${where})` }, err);
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw fail({ kind: 'shape', detail: firstIssue(result.error, labels) }, result.error);
}
