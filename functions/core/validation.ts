// Every boundary (config, environment, payloads, store answers, files read back) is checked by a zod
// schema, and its first problem is told the same way everywhere: one line, `where: path: what`.
import type * as z from 'zod';

/** The first issue of a zod error as `path: message` (the path `(top level)` when there is none). */
export function firstIssue(
  error: z.ZodError,
  labels: { unknownKeys?: (path: string, keys: string) => string | undefined } = {},
): string {
  const issue = error.issues[0];
  if (!issue) return '(top level): invalid';
  const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `${path}: ${labels.unknownKeys?.(path, keys) ?? `unknown key ${keys}`}`;
  }
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
