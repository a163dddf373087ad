/** Longest error text kept in a report, cut only after every secret is out of it. */
export const MAX_ERROR_CHARS = 400;

/**
 * Removes every known secret from a text that may reach a report or a log, then cuts it to
 * `max`: redacting first, so that no secret's prefix survives a cut through it.
 */
export function redact(text: string, secrets: (string | undefined | null)[], max = MAX_ERROR_CHARS): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}
