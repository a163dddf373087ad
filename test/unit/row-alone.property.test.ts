// A row is judged alone: CloudStack's bucket.name is free text, and a row naming a bucket no store can
// have (`team/archive`, control characters, 600 bytes) must not take its store's verdicts with it.
// The fake store refuses such a name as the AWS SDK does (it throws before sending anything); for any
// such rows beside the seed case, the store stays verified and the seed case is still reported.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../functions/core/evaluate.js';
import { bucketNameProblem } from '../../functions/core/bucket-name.js';
import type { StoreAdapter } from '../../functions/stores/adapter.js';
import { scanStore } from '../../functions/stores/scan-store.js';
import { NOW, aBucket, aStore, anInput } from '../support/builders.js';

const OPTIONS = { concurrency: 4, requestTimeoutMs: 1000, maxAttempts: 1, retryBaseDelayMs: 1 };

/** A store with none of the rows' buckets; it refuses to be asked about a name no bucket can have. */
const emptyStore: StoreAdapter = {
  capabilities: [],
  notApplicable: {},
  connect: () => ({
    listBuckets: async () => {},
    headBucket: async (name) => {
      if (bucketNameProblem(name)) throw new TypeError(`Invalid bucket name: ${name.slice(0, 20)}`);
      return { result: 'absent' };
    },
    readAttributes: async () => ({ attributes: {} }),
    requestCount: () => 1,
    close: () => {},
  }),
};

const impossibleName = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}/${b}`),
  fc.string({ maxLength: 20 }).map((s) => `${s}\u0007`),
  fc.constant('x'.repeat(600)),
);

describe('a row is judged alone', () => {
  it('no row naming an impossible bucket takes its store verdicts with it (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(impossibleName, { minLength: 1, maxLength: 6 }), async (names) => {
        const rows = [aBucket('gone'), ...names.map((n) => aBucket(n))];
        for (const targeted of [false, true]) {
          const scan = await scanStore({
            store: aStore(),
            expected: rows.map((r) => r.name),
            ...(targeted ? { targeted: true } : {}),
            options: OPTIONS,
            adapter: emptyStore,
            now: () => NOW,
            attributes: [],
            inspect: [],
          });
          expect(scan.status).toBe('verified');
          const { findings, coverage } = evaluate(anInput(rows, scan));
          expect(coverage[0]?.status).toBe('verified');
          const missing = findings.filter((f) => f.rule === 'bucket-missing-in-store').map((f) => f.bucket);
          expect(missing).toContain('gone'); // the seed case is still reported
          for (const name of new Set(names)) expect(missing).toContain(name); // each bad row, its own finding
        }
      }),
      { numRuns: 100 },
    );
  });

  it('the finding of such a row says why, and its steps never re-create the bucket', async () => {
    const rows = [aBucket('team/archive')];
    const scan = await scanStore({
      store: aStore(),
      expected: ['team/archive'],
      options: OPTIONS,
      adapter: emptyStore,
      now: () => NOW,
      attributes: [],
      inspect: [],
    });
    const { findings } = evaluate(anInput(rows, scan));
    expect(findings[0]?.message).toMatch(/under a name no store can have \(holds "\/"/);
    expect(findings[0]?.remediation.steps.join('\n')).not.toMatch(/re-create/i);
  });
});
