// One benchmark figure next to its target, the table printed, and bench/results.json written whole
// (temp file, then rename) so an interrupted run leaves the previous results.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface Figure {
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The target, as text ("<= 1.25"), and whether the value meets it; none for context figures. */
  target?: { text: string; met: boolean };
  detail?: string;
}

export function atMost(limit: number): (value: number) => { text: string; met: boolean } {
  return (value) => ({ text: `<= ${limit}`, met: value <= limit });
}

export function atLeast(limit: number): (value: number) => { text: string; met: boolean } {
  return (value) => ({ text: `>= ${limit}`, met: value >= limit });
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function printTable(figures: Figure[], print: (line: string) => void): void {
  const rows = figures.map((f) => [
    f.label,
    `${f.value} ${f.unit}`.trim(),
    f.target ? `${f.target.text} ${f.unit}`.trim() : '',
    f.target ? (f.target.met ? 'met' : 'MISSED') : '',
  ]);
  const header = ['figure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  print(line(header));
  print(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) print(line(r));
}

/**
 * Figures measured in this run replace those of the same id; the rest of an earlier run (a partial
 * run with --only) are kept, each with the time it was measured.
 */
export async function writeResults(path: string, figures: Figure[], startedAt: Date): Promise<void> {
  const measuredAt = startedAt.toISOString();
  const fresh = figures.map((f) => ({ ...f, measuredAt }));
  const earlier = await readFile(path, 'utf8').then(
    (text) => (JSON.parse(text) as { figures?: (Figure & { measuredAt: string })[] }).figures ?? [],
    () => [],
  );
  const ids = new Set(fresh.map((f) => f.id));
  const body = {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 2 ** 20),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    figures: [...earlier.filter((f) => !ids.has(f.id)), ...fresh],
  };
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`);
  await rename(temp, path);
}
