// `csdrift audit --metrics-file PATH`: the run's figures, written atomically (a temporary file in the
// same folder, flushed, renamed) so node_exporter never reads half a file.
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../common/atomic-file.js';
import type { RunFigures } from './run-metrics.js';
import { isSuccess, lastSuccessIn, renderRunMetrics } from './run-metrics.js';

export async function writeMetricsFile(path: string, run: Omit<RunFigures, 'lastSuccessAt'>): Promise<void> {
  const previous = await readFile(path, 'utf8').catch(() => null);
  const lastSuccessAt = isSuccess(run.status) ? run.finishedAt.getTime() / 1000 : lastSuccessIn(previous);
  await writeFileAtomically(path, await renderRunMetrics({ ...run, lastSuccessAt }));
}
