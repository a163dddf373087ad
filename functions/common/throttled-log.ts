// Lines about input from outside (garbage, refused deliveries, events naming nothing) are logged at
// most once a minute per kind: anyone who can send input could otherwise flood the log. What was held
// back is counted and said with the next line of its kind; the metrics count every one.

export type ThrottledLog = (kind: string, line: string) => void;

export function throttledLog(log: (line: string) => void, windowMs = 60_000, now = Date.now): ThrottledLog {
  const last = new Map<string, { at: number; held: number }>();
  return (kind, line) => {
    const t = now();
    const seen = last.get(kind);
    if (seen && t - seen.at < windowMs) {
      seen.held += 1;
      return;
    }
    const held = seen?.held ?? 0;
    last.set(kind, { at: t, held: 0 });
    log(held ? `${line} (and ${held} more like it since the last such line)` : line);
  };
}
