/** Removes every known secret from a text that may reach a report or a log. */
export function redact(text: string, secrets: (string | undefined | null)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
