// A report read back from where a run wrote it (a folder or an S3 prefix), to render it again in any
// format without auditing again. What is read back is checked before any renderer sees it.
import * as z from 'zod';
import { InvalidInputError } from '../core/errors.js';
import { coverageSchema, findingSchema } from '../core/report-schema.js';
import type { Report } from '../core/report.js';
import { parseJson } from '../core/validation.js';
import type { StateStorage } from './storage.js';

/** A run id as runs are named: the start time, then six hex digits. */
const RUN_ID = /^(\d{4})(\d{2})(\d{2})T\d{6}Z-[0-9a-f]{6}$/;

/** What the renderers read of a report (schemaVersion 1); anything more is kept as it is. */
const storedReportSchema = z.looseObject({
  schemaVersion: z.literal(1),
  runId: z.string(),
  trigger: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  status: z.enum(['in_sync', 'drift', 'incomplete', 'error']),
  cloudstack: z.looseObject({ schema: z.string(), database: z.string(), readAt: z.string() }),
  coverage: z.array(coverageSchema),
  summary: z.looseObject({
    findings: z.number(),
    new: z.number(),
    open: z.number(),
    resolved: z.number(),
    suppressed: z.number(),
    bySeverity: z.record(z.string(), z.number()),
    byRule: z.record(z.string(), z.number()),
  }),
  findings: z.array(findingSchema),
  resolved: z.array(
    z.looseObject({
      id: z.string(),
      rule: z.string(),
      store: z.looseObject({ name: z.string() }),
      bucket: z.string().nullable(),
    }),
  ),
  pending: z.array(z.unknown()).default([]),
  expiredSuppressions: z.array(z.unknown()).default([]),
});

/** Where a run's JSON report is: `latest`, or a run id (its date is in its name). */
export function storedReportKey(run: string): string {
  if (run === 'latest') return 'latest/report.json';
  const m = RUN_ID.exec(run);
  if (!m) throw new InvalidInputError(`--run ${run}: not a run id (like 20261124T020000Z-a1b2c3) nor latest`);
  return `runs/${m[1]}/${m[2]}/${m[3]}/${run}/report.json`;
}

export async function readStoredReport(storage: StateStorage, run: string): Promise<Report> {
  const key = storedReportKey(run);
  const text = (await storage.read(key))?.text ?? null;
  if (text === null)
    throw new InvalidInputError(
      `--run ${run}: no JSON report at ${storage.location(key)} (runs write JSON with --format json; csdrift report --list shows the runs there are)`,
    );
  // Checked, then taken as the Report it was written as: only what the renderers need is required.
  return parseJson(
    storedReportSchema,
    text,
    (problem, cause) =>
      new InvalidInputError(
        `${storage.location(key)}: ${problem.kind === 'not-json' ? 'not valid JSON' : problem.detail}`,
        { cause },
      ),
  ) as unknown as Report;
}

/** The runs whose JSON report is stored, newest first. */
export async function storedRuns(storage: StateStorage): Promise<string[]> {
  const keys = await storage.list('runs/');
  return keys
    .map((key) => /^runs\/\d{4}\/\d{2}\/\d{2}\/([^/]+)\/report\.json$/.exec(key)?.[1])
    .filter((id): id is string => Boolean(id && RUN_ID.test(id)))
    .sort()
    .reverse();
}
