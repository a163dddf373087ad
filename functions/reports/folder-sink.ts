// The contract's layout in a folder: runs/YYYY/MM/DD/<runId>/report.<ext>, then latest/report.<ext>.
// Each file is written to a temporary name and renamed, so a crash never leaves half a report.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../core/report.js';

export interface RenderedReport {
  ext: string;
  body: string;
}

export function runFolder(report: Report): string {
  const [y, m, d] = report.startedAt.slice(0, 10).split('-') as [string, string, string];
  return join('runs', y, m, d, report.runId);
}

export async function writeReportToFolder(
  root: string,
  report: Report,
  files: RenderedReport[],
): Promise<string> {
  const runDir = join(root, runFolder(report));
  for (const dir of [runDir, join(root, 'latest')]) {
    await mkdir(dir, { recursive: true });
    for (const file of files) await writeAtomically(join(dir, `report.${file.ext}`), file.body);
  }
  return join(runDir, `report.${files[0]?.ext ?? 'json'}`);
}

async function writeAtomically(path: string, body: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, body, { mode: 0o640 });
  await rename(tmp, path);
}
