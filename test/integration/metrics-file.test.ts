// csdrift audit --metrics-file against a live RGW: what node_exporter's textfile collector reads,
// checked by Prometheus' own promtool; a failed run keeps the last success time.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRunMetrics } from '../../functions/metrics/run-metrics.js';
import { WatchMetrics } from '../../functions/watch/watch-metrics.js';
import { csdrift } from '../support/cli.js';
import { hostileReport } from '../support/hostile-report.js';
import { bucketName } from '../support/cloud.js';
import { dbUrlText } from '../support/database.js';
import { cephCloudPerTest } from '../support/per-test.js';

/** One sample's value, by its metric name and exact label text (`{store="ceph-1"}`), or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('csdrift audit --metrics-file', () => {
  const ctx = cephCloudPerTest('4.21');

  it('writes the run in the Prometheus text format that promtool accepts; a failed run keeps the last success', async () => {
    const store = await ctx.cloud.store('ceph-1');
    const alice = await ctx.cloud.account('alice');
    const gone = bucketName('gone');
    await ctx.cloud.seed.bucket({ name: gone, store, account: alice }); // the seed case
    const file = join(ctx.dir, 'textfile', 'csdrift.prom');
    const db = dbUrlText(ctx.cloud.database.db);

    const run = await csdrift(['audit', '--quiet', '--db', db, '--out', ctx.dir, '--metrics-file', file]);

    expect(run.code).toBe(1);
    const text = await readFile(file, 'utf8');
    execFileSync('promtool', ['check', 'metrics'], { input: text }); // throws on any problem it reports
    expect(sample(text, 'csdrift_last_run_status', '{status="drift"}')).toBe(1);
    expect(sample(text, 'csdrift_last_run_status', '{status="in_sync"}')).toBe(0);
    expect(
      sample(text, 'csdrift_findings', '{rule="bucket-missing-in-store",severity="high",store="ceph-1"}'),
    ).toBe(1);
    expect(sample(text, 'csdrift_store_verified', '{store="ceph-1"}')).toBe(1);
    const success = sample(text, 'csdrift_last_success_timestamp_seconds');
    expect(success).toBe(sample(text, 'csdrift_last_run_timestamp_seconds'));
    expect(sample(text, 'csdrift_run_duration_seconds')).toBeGreaterThan(0);

    // A run that cannot even read the database: status error, the last success kept.
    const failed = await csdrift([
      'audit',
      '--quiet',
      '--db',
      'mysql://nobody:wrong@127.0.0.1:1/cloud',
      '--out',
      ctx.dir,
      '--metrics-file',
      file,
    ]);

    expect(failed.code).toBe(3);
    const after = await readFile(file, 'utf8');
    execFileSync('promtool', ['check', 'metrics'], { input: after });
    expect(sample(after, 'csdrift_last_run_status', '{status="error"}')).toBe(1);
    expect(sample(after, 'csdrift_last_success_timestamp_seconds')).toBe(success);
    expect(sample(after, 'csdrift_last_run_timestamp_seconds')).toBeGreaterThan(success ?? 0);
    expect(after).not.toContain('wrong');
  });

  it('the example alert rules in deploy/prometheus pass promtool check rules', () => {
    const rules = new URL('../../deploy/prometheus/csdrift-alerts.yml', import.meta.url).pathname;
    expect(execFileSync('promtool', ['check', 'rules', rules]).toString()).toMatch(/SUCCESS: 10 rules found/);
  });

  it('the Grafana dashboard in deploy/grafana: every query parses (promtool) and names only metrics csdrift exports', async () => {
    const dashboard = JSON.parse(
      await readFile(new URL('../../deploy/grafana/csdrift.json', import.meta.url), 'utf8'),
    ) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
    );
    expect(exprs.length).toBeGreaterThanOrEqual(15);
    // Grafana's own variables become what Prometheus takes; each query is then a recording rule.
    const rules = {
      groups: [
        {
          name: 'csdrift-dashboard',
          rules: exprs.map(({ expr }, i) => ({
            record: `csdrift_dashboard:query${i}`,
            expr: expr.replaceAll('$__rate_interval', '5m'),
          })),
        },
      ],
    };
    const dir = await mkdtemp(join(tmpdir(), 'csdrift-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      await writeFile(file, JSON.stringify(rules)); // JSON is YAML
      expect(execFileSync('promtool', ['check', 'rules', file]).toString()).toMatch(
        new RegExp(`SUCCESS: ${exprs.length} rules found`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The names csdrift exports: both outputs, read back from what they render.
    const report = hostileReport();
    const exported = new Set(
      [
        await new WatchMetrics().text(),
        await renderRunMetrics({
          status: report.status,
          startedAt: new Date(0),
          finishedAt: new Date(1000),
          report,
          lastSuccessAt: 1,
          notificationsFailed: { email: 0 },
        }),
      ].flatMap((text) => [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string)),
    );
    const named = new Set(
      exprs.flatMap(({ expr }) =>
        [...expr.matchAll(/\bcsdrift_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      ),
    );
    expect([...named].filter((n) => !exported.has(n))).toEqual([]);
    for (const wanted of [
      'csdrift_open_findings',
      'csdrift_unbilled_bytes',
      'csdrift_last_success_timestamp_seconds',
      'csdrift_event_to_verdict_seconds',
      'csdrift_event_source_up',
    ])
      expect(named).toContain(wanted);
  });

  it('names a store or rule may not break the exposition: promtool reads hostile labels back', async () => {
    const report = hostileReport();
    const coverage = report.coverage.map((c) => ({
      ...c,
      store: { ...c.store, name: 'evil"\\\nstore{x="1"}' },
    }));
    const text = await renderRunMetrics({
      status: report.status,
      startedAt: new Date(0),
      finishedAt: new Date(1000),
      report: { ...report, coverage },
      lastSuccessAt: 1,
    });
    execFileSync('promtool', ['check', 'metrics'], { input: text });
    expect(text).toContain('csdrift_store_verified{store="evil\\"\\\\\\nstore{x=\\"1\\"}"} 1');
  });
});
