// A source's cursor kept in a file between runs (the event table's last id, an ops log's position):
// none yet is a first start; one that does not hold what it should stops the start with what to do.
import { readFile } from 'node:fs/promises';
import type * as z from 'zod';

export async function readCursorFile<T>(
  path: string,
  schema: z.ZodType<T>,
  remedy: string,
): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: z.ZodSafeParseResult<T> | undefined;
  try {
    parsed = schema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new Error(`${path} holds no cursor csdrift can read; ${remedy}`);
  return parsed.data;
}
