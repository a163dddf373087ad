// Cold start: each Lambda artifact bundled as the stack bundles it, its size, and the time a fresh
// Node process takes to import it (the init phase's share that the code controls).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HANDLER_ENTRIES } from '../infra/bundling.js';
import { bundleHandler } from '../test/support/bundle.js';
import type { Figure } from './results.js';
import { atMost, median, round } from './results.js';

const run = promisify(execFile);
const IMPORTS = 7;
const AUDIT_TARGET_MB = 1.5;

const IMPORT_TIMER = `const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));`;

async function importMs(file: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < IMPORTS; i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT_TIMER, file], {
      env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    times.push(Number(stdout));
  }
  return median(times);
}

export async function coldStart(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const [name, entry] of Object.entries(HANDLER_ENTRIES)) {
    const bundle = await bundleHandler(entry);
    try {
      const mb = round(bundle.bytes / 1e6, 3);
      figures.push({
        id: `bundle.${name}.mb`,
        label: `${name} function bundle (minified)`,
        value: mb,
        unit: 'MB',
        ...(name === 'audit' ? { target: atMost(AUDIT_TARGET_MB)(mb) } : {}),
      });
      figures.push({
        id: `bundle.${name}.importMs`,
        label: `${name} function import, fresh process (median of ${IMPORTS})`,
        value: round(await importMs(bundle.file), 0),
        unit: 'ms',
      });
    } finally {
      await bundle.remove();
    }
  }
  return figures;
}
