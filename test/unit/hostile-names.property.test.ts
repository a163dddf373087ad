// Random names (control characters, quotes, shell metacharacters, unicode, bidi overrides) through
// every renderer: each output either reads back as the same value or shows it escaped, and every
// remediation command is one command with the name as exactly one argument.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { bucketNameProblem } from '../../functions/core/bucket-name.js';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSummary } from '../../functions/cli/summary.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import { evaluate } from '../../functions/core/evaluate.js';
import type { Finding, StoreScan } from '../../functions/core/model.js';
import type { Report } from '../../functions/core/report.js';
import { INVISIBLE } from '../../functions/core/shell.js';
import { neutralise, renderCsv } from '../../functions/reports/csv.js';
import { renderHtml } from '../../functions/reports/html.js';
import { renderMarkdown } from '../../functions/reports/markdown.js';
import { NOW, aBucket, aScan, aStore, anInventory, reportOf } from '../support/builders.js';

const SCRATCH = mkdtempSync(join(tmpdir(), 'csdrift-hostile-'));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** Mostly the characters that break things, some of anything. */
const hostileChar = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...`$()\`;|&<>'"\\ \n\r\t\u001b\u202e\u2066\u0000*?!{}[]#~=,-:/.%`.split('')),
  },
  { weight: 2, arbitrary: fc.constantFrom(...'abcxyz019'.split('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
);
const hostileName = fc
  .array(hostileChar, { minLength: 1, maxLength: 24 })
  .map((chars) => chars.join(''))
  .filter((s) => !s.includes('\u0000')); // no shell argument can hold a NUL: nor can a bucket name

/** One report with a finding of every bucket rule about `name`, on a Ceph and a MinIO store. */
function reportAbout(name: string, account: string): Report {
  const owner = { accountUuid: 'acct', accountName: account, domainUuid: 'dom', domainPath: '/' };
  const ceph = aStore({ id: 1, uuid: 's1', name: 'ceph-1', provider: 'Ceph' });
  const minio = aStore({ id: 2, uuid: 's2', name: 'minio-1', provider: 'MinIO' });
  const rows = [
    aBucket(`${name}`, { storeId: 1, owner, versioning: true, quota: 2, policy: 'public' }),
    aBucket(`${name}-gone`, { storeId: 1, owner }),
    aBucket(`${name}-old`, { storeId: 1, owner, removed: '2026-11-02 00:00:00' }),
    aBucket(`${name}-half`, { storeId: 1, owner, state: 'Allocated' }),
    aBucket(`${name}`, { storeId: 2, owner, encryption: true, accountRemoved: true }),
  ];
  const attributes: StoreScan['attributes'] = {
    [name]: {
      versioning: { value: 'Suspended' },
      objectLock: { value: false },
      quota: { value: null },
      policy: { value: { anonymousRead: 'no', anonymousList: 'no', anonymousWrite: 'no', statements: 0 } },
      owner: { value: { storeOwner: `${name}-thief` } },
      encryption: { value: null },
    },
  };
  const capabilities: StoreScan['capabilities'] = [
    'versioning',
    'objectLock',
    'quota',
    'policy',
    'owner',
    'encryption',
  ];
  const scans = [
    aScan([name, `${name}-old`, `${name}-rogue`], {
      storeId: 1,
      absenceChecks: { [`${name}-gone`]: { result: 'absent', checkedAt: NOW.toISOString() } },
      attributes,
      capabilities,
    }),
    aScan([name], { storeId: 2, attributes: { [name]: { encryption: { value: null } } }, capabilities }),
  ];
  const evaluation = evaluate({
    inventory: anInventory(rows, [ceph, minio]),
    scans,
    recheckedRows: rows,
    config: parseAuditConfig({}),
    rules: [],
    now: NOW,
  });
  return reportOf(evaluation, { runId: 'r' }).report;
}

const TOOLS = ['aws', 'radosgw-admin', 'mc', 'cmk', 'csdrift'];

/**
 * Each command in the findings' steps, run by one bash with every tool replaced by a function that
 * prints its arguments: per finding, the argument lists of its commands.
 */
function argumentsOf(findings: Finding[]): string[][][] {
  const stubs = TOOLS.map((t) => `${t.replace('-', '_')}() { printf '%s\\0' "$@"; printf '\\1\\0'; }`);
  const lines = findings.flatMap((finding, i) => {
    const commands = finding.remediation.steps
      .flatMap((step) => [...step.matchAll(/`([^`]*)`/g)].map((m) => m[1] as string))
      .filter((c) => TOOLS.some((t) => c.startsWith(`${t} `)));
    return [
      `printf '\\2%d\\0' ${i}`,
      ...commands.map((c) => c.replace(/(^|&& )radosgw-admin/g, '$1radosgw_admin')),
    ];
  });
  const out = execFileSync('bash', ['-c', [...stubs, ...lines].join('\n')], { cwd: SCRATCH }).toString(
    'utf8',
  );
  const calls: string[][][] = findings.map(() => []);
  let finding = -1;
  let args: string[] = [];
  for (const token of out.split('\u0000').slice(0, -1)) {
    if (token.startsWith('\u0002')) finding = Number(token.slice(1));
    else if (token === '\u0001') {
      calls[finding]?.push(args);
      args = [];
    } else args.push(token);
  }
  return calls;
}

describe('hostile names through every output (property)', () => {
  it('every remediation command is one command, with each name exactly one argument, and runs nothing else', () => {
    fc.assert(
      fc.property(hostileName, (name) => {
        const report = reportAbout(name, 'alice');
        const rules = new Set(report.findings.map((f) => f.rule));
        expect(rules.size).toBeGreaterThanOrEqual(8);
        const all = argumentsOf(report.findings);
        for (const [i, finding] of report.findings.entries()) {
          if (!finding.bucket) continue;
          const calls = all[i] ?? [];
          for (const args of calls) {
            // Wherever the bucket is an argument it is exactly one: --bucket=NAME, s3://NAME, ALIAS/NAME.
            for (const arg of args) {
              for (const prefix of ['--bucket=', 's3://', 'ALIAS/'])
                if (arg.startsWith(prefix))
                  expect(arg, JSON.stringify(args)).toBe(`${prefix}${finding.bucket}`);
            }
          }
          // A row no store can hold (a "/" in its name) has no store-side command: its steps soft-delete the row.
          if (
            ['bucket-unmanaged-in-store', 'bucket-missing-in-store'].includes(finding.rule) &&
            !bucketNameProblem(finding.bucket)
          )
            expect(calls.some((args) => args.includes(`--bucket=${finding.bucket}`))).toBe(true);
        }
        expect(readdirSync(SCRATCH)).toEqual([]); // no `$(…)` or redirection ever ran
      }),
      { numRuns: 50 },
    );
  }, 60_000);

  it('CSV reads back cell for cell with a real CSV parser, and no cell starts a formula', () => {
    fc.assert(
      fc.property(hostileName, hostileName, (name, account) => {
        const report = reportAbout(name, account);
        const records = parse(renderCsv(report), { relax_quotes: false }) as string[][];
        expect(records).toHaveLength(report.findings.length + 1);
        for (const [i, f] of report.findings.entries()) {
          const row = records[i + 1] as string[];
          expect(row[7]).toBe(neutralise(f.bucket ?? ''));
          expect(row[9]).toBe(neutralise(f.owner?.accountName ?? ''));
          for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('the terminal summary, Markdown and HTML hold no raw control or bidirectional character', () => {
    fc.assert(
      fc.property(hostileName, hostileName, (name, account) => {
        const report = reportAbout(name, account);
        const summary = formatSummary(report, 'report.html');
        const markdown = renderMarkdown(report);
        const html = renderHtml(report);
        const visibleLines = (text: string) =>
          text.split('\n').every((line) => !INVISIBLE.test(line.replace(/\r$/, '')));
        expect(visibleLines(summary)).toBe(true);
        expect(summary.split('\n').filter((l) => l.startsWith('status:'))).toHaveLength(1); // no forged status line
        expect(visibleLines(markdown)).toBe(true);
        // HTML: the page's own text has tabs and newlines; a name may bring none, nor a bidi override.
        // eslint-disable-next-line no-control-regex -- looking for control characters is the point
        expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
        for (const f of report.findings)
          expect(JSON.stringify(f.remediation)).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      }),
      { numRuns: 150 },
    );
  });
});
