// csdrift report: a stored run rendered again, in any format, without auditing again.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../functions/core/report.js';
import { csdrift } from '../support/cli.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

describe('csdrift report', () => {
  const ctx = cephCloudPerTest('4.21');

  it('prints a past run or the latest in another format, lists the runs, and names what it cannot read', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.seed.bucket({ name: gone, store, account: alice });
    const audit = await csdrift([
      'audit',
      '--quiet',
      '--json',
      '--format',
      'json',
      '--db',
      dbUrlText(ctx.cloud.database.db),
      '--out',
      ctx.dir,
    ]);
    const report = JSON.parse(audit.stdout) as Report;

    const csv = await csdrift(['report', '--out', ctx.dir, '--run', report.runId, '--format', 'csv']);
    expect(csv.code).toBe(0);
    const rows = parse(csv.stdout) as string[][];
    expect(rows[0]?.[0]).toBe('id');
    expect(rows.slice(1).map((r) => `${r[3]} ${r[7]}`)).toEqual([`bucket-missing-in-store ${gone}`]);

    const md = await csdrift(['report', '--out', ctx.dir, '--run', 'latest']); // the last full run, as Markdown
    expect(md.code).toBe(0);
    expect(md.stdout).toContain(`Full run \\(cli\\), ${report.runId}`);
    const current = await csdrift(['report', '--out', ctx.dir]); // the current view, from the ledger
    expect(current.stdout).toMatch(/^\*\*csdrift drift\*\*: 1 finding/);
    expect(current.stdout).toContain('Current view as of');

    const list = await csdrift(['report', '--out', ctx.dir, '--list']);
    const [header, row, ...more] = list.stdout.trim().split('\n');
    expect(header).toMatch(/^TIME \(UTC\)\s+RUN\s+TRIGGER\s+STATUS\s+FINDINGS\s+SCOPE$/);
    expect(row).toMatch(
      new RegExp(
        `^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\s+${report.runId}\\s+cli\\s+drift\\s+1\\s+full$`,
      ),
    );
    expect(more).toEqual([]);
    const listed = JSON.parse(
      (await csdrift(['report', '--out', ctx.dir, '--list', '--format', 'json'])).stdout,
    );
    expect(listed).toEqual([
      {
        runId: report.runId,
        at: expect.any(String),
        trigger: 'cli',
        status: 'drift',
        findings: 1,
        scope: 'full',
      },
    ]);

    const missing = await csdrift(['report', '--out', ctx.dir, '--run', '20200101T000000Z-abcdef']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/--run 20200101T000000Z-abcdef: no JSON report at .*report\.json/);
    const typo = await csdrift(['report', '--out', ctx.dir, '--run', 'yesterday']);
    expect(typo.stderr).toMatch(/--run yesterday: not a run id/);

    // A file that is not a report is named, never rendered.
    const bad = join(ctx.dir, 'runs', '2020', '01', '02', '20200102T000000Z-abcdef');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'report.json'), JSON.stringify({ schemaVersion: 2 }));
    const wrong = await csdrift(['report', '--out', ctx.dir, '--run', '20200102T000000Z-abcdef']);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/report\.json: schemaVersion: /);
  });
});
