// The parts of a report that are also kept in state (the ledger keeps each open finding as last
// reported, and each store's last full coverage), as zod schemas: one declaration checks a report
// read back from storage and the ledger read back from its file.
import * as z from 'zod';
import { COVERAGE_STATUSES, SEVERITIES } from './model.js';
import { RULE_IDS } from './rules/index.js';

export const storeRefSchema = z.looseObject({
  id: z.number(),
  uuid: z.string(),
  name: z.string(),
  provider: z.string(),
  endpoint: z.string(),
});

/** What the renderers read of a finding; anything more is kept as it is. */
export const findingSchema = z.looseObject({
  id: z.string(),
  rule: z.enum(RULE_IDS),
  severity: z.enum(SEVERITIES),
  status: z.enum(['new', 'open', 'suppressed']),
  store: storeRefSchema,
  bucket: z.string().nullable(),
  message: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  remediation: z.looseObject({ summary: z.string(), steps: z.array(z.string()) }),
  firstSeen: z.string(),
  lastSeen: z.string(),
});

/** What the renderers read of a store's coverage. */
export const coverageSchema = z.looseObject({
  store: storeRefSchema,
  status: z.enum(COVERAGE_STATUSES),
  bucketsInDb: z.number(),
  bucketsInStore: z.number(),
  checks: z.record(z.string(), z.string()),
  evidence: z.looseObject({ requests: z.number(), startedAt: z.string(), finishedAt: z.string() }),
});
