// Commands in remediation steps are pasted into a shell by a person: every value in them comes from
// a store or a database row and may be hostile (`x$(id>pwned)`, `foo --bucket=prod-critical`, a
// newline, a right-to-left override). Each is quoted as exactly one argument for bash, and control
// and bidirectional characters are written as escapes so that what is on screen is what runs.

/** Characters that never need quoting. */
const PLAIN = /^[A-Za-z0-9_.,:/@%+=-]+$/;
/**
 * Characters a reader cannot see or that change what they see: C0 and C1 controls and DEL (Cc); the
 * format characters (Cf): zero-width spaces and joiners, the bidirectional controls that reorder
 * text, soft hyphens, byte-order marks and tag characters (`photos\u200b-prod` must not pass for
 * `photos-prod`); line and paragraph separators; and the blank Hangul fillers.
 */
export const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/u;
/** Also escaped inside a command: a backtick marks where a command starts and ends in a step. */
const ESCAPED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0`]/u;

/** One shell word that bash reads back as exactly `value`. */
export function shellQuote(value: string | number | boolean): string {
  const text = String(value);
  if (text !== '' && PLAIN.test(text) && !text.startsWith('-')) return text;
  if (!ESCAPED.test(text)) return `'${text.replace(/'/g, `'\\''`)}'`;
  // ANSI-C quoting ($'…'): every invisible character as an escape a person can see.
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (ESCAPED.test(ch))
      out +=
        code < 0x100
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : code < 0x10000
            ? `\\u${code.toString(16).padStart(4, '0')}`
            : `\\U${code.toString(16).padStart(8, '0')}`;
    else out += ch;
  }
  return `$'${out}'`;
}

/** A command whose interpolated values are each quoted as one argument: sh`aws s3 rb s3://${name}`. */
export function sh(strings: TemplateStringsArray, ...values: (string | number | boolean)[]): string {
  return strings.reduce(
    (out, part, i) => out + part + (i < values.length ? shellQuote(values[i] as string) : ''),
    '',
  );
}

/**
 * A command for a remediation step, between backticks: Markdown and Slack show it as code, and a
 * person (or a test) can take exactly the command out of the sentence. No backtick is ever inside.
 */
export function cmd(strings: TemplateStringsArray, ...values: (string | number | boolean)[]): string {
  return `\`${sh(strings, ...values)}\``;
}

/**
 * Text for a screen, a log line or a message: every control or bidirectional character shown as
 * `\u{…}`, so a name can neither forge a line, move the cursor, nor reverse what follows it.
 */
export function visible(text: string): string {
  if (!INVISIBLE.test(text)) return text;
  let out = '';
  for (const ch of text)
    out += INVISIBLE.test(ch) ? `\\u{${(ch.codePointAt(0) as number).toString(16)}}` : ch;
  return out;
}
