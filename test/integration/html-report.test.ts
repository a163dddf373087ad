// The HTML report as an operator sees it: opened from disk in headless Chromium (Debian's package).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../functions/reports/html.js';
import { hostileReport } from '../support/hostile-report.js';

const ARTIFACTS = new URL('../../test-results/', import.meta.url).pathname;

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
  }
}

describe('the HTML report in a browser', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'csdrift-html-'));
  });
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows the run at a glance, runs no injected script, fetches nothing, and sorts and filters', async () => {
    // Prepare
    const report = hostileReport();
    const file = join(dir, 'report.html');
    await writeFile(file, renderHtml(report));
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    // Act
    await page.goto(pathToFileURL(file).href);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'html-report.png'), fullPage: true });

    // Assert: the verdict and the coverage at the top
    await expect.poll(() => page.locator('header .verdict').textContent()).toBe('drift');
    expect(await page.locator('table.coverage tbody tr').count()).toBe(1);
    expect(await page.locator('table.coverage').textContent()).toContain('verified');
    // hostile names are shown as text, and nothing ran
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(await page.locator('td.bucket', { hasText: '<script>window.pwned=1</script>' }).count()).toBe(1);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    // every finding is there, new first
    const rows = page.locator('tbody.finding');
    expect(await rows.count()).toBe(report.findings.length);
    // filter by severity, then by text
    await page.selectOption('#f-severity', 'low');
    expect(await page.locator('tbody.finding:not([hidden])').count()).toBe(
      report.findings.filter((f) => f.severity === 'low').length,
    );
    await page.selectOption('#f-severity', '');
    await page.fill('#q', '@evil');
    expect(await page.locator('tbody.finding:not([hidden]) td.bucket').allTextContents()).toEqual(['@evil']);
    expect(await page.locator('#shown').textContent()).toBe('1 shown');
    await page.fill('#q', '');
    // sort by bucket, both ways
    await page.click('th[data-key="bucket"]');
    const ascending = await page.locator('tbody.finding td.bucket').allTextContents();
    expect(ascending).toEqual([...ascending].sort((a, b) => a.localeCompare(b)));
    await page.click('th[data-key="bucket"]');
    expect(await page.locator('tbody.finding td.bucket').allTextContents()).toEqual([...ascending].reverse());
    // the finding's id in its row, the evidence as formatted JSON, commands as code with a copy button
    const first = report.findings.find((f) => f.status === 'new') ?? report.findings[0];
    expect(await page.locator('.fid').first().textContent()).toMatch(/^[0-9a-f]{8}$/);
    await page.locator('tbody.finding details summary').first().click();
    await page
      .locator('tbody.finding')
      .first()
      .screenshot({ path: join(ARTIFACTS, 'html-report-finding.png') });
    const evidence = await page.locator('tbody.finding details pre').first().innerText();
    expect(evidence.split('\n')[1]).toMatch(/^ {2}"findingId": "[0-9a-f]{32}",$/);
    expect(evidence).not.toContain('\\u{a}');
    const steps = page.locator('tbody.finding details ol').first();
    expect(await steps.locator('.cmd code').count()).toBeGreaterThan(0);
    expect(await steps.innerText()).not.toContain('`');
    await steps.locator('button.copy').first().click();
    expect(await steps.locator('button.copy').first().textContent()).toMatch(/^(copied|selected)$/);
    void first;
    // printing opens every detail
    await page.emulateMedia({ media: 'print' });
    await page.evaluate("window.dispatchEvent(new Event('beforeprint'))");
    expect(await page.locator('details[open]').count()).toBe(report.findings.length);
    await page.close();
  });

  it('leads with what is at stake: the trend drawn from a planted history, sortable by bytes, no CSP violation', async () => {
    // Prepare: ten nightly full runs, the last being this report's
    const base = hostileReport();
    const nights = Array.from({ length: 10 }, (_, i) => ({
      at: new Date(Date.UTC(2026, 10, 20 + i, 2, 5)).toISOString(),
      runId: `night-${i}`,
      openBySeverity: { critical: 0, high: 10 - i, medium: 2, low: i % 3, info: 0 },
      unbilledBytes: (i + 1) * 1024 ** 3,
    }));
    const sizes = [5 * 1024 ** 3, 1024, 300 * 1024 ** 2];
    const report = {
      ...base,
      findings: base.findings.map((f, i) => (i < sizes.length ? { ...f, bytes: sizes[i] } : f)),
      trend: {
        points: nights,
        previous: { at: nights[8]?.at ?? '', runId: 'night-8', open: 4, unbilledBytes: 9 * 1024 ** 3 },
      },
    };
    const file = join(dir, 'trend.html');
    await writeFile(file, renderHtml(report));
    const violations: string[] = [];
    const desktop = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    desktop.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });

    // Act
    await desktop.goto(pathToFileURL(file).href);
    await mkdir(ARTIFACTS, { recursive: true });
    await desktop.screenshot({ path: join(ARTIFACTS, 'html-report-trend.png'), fullPage: true });
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    await phone.goto(pathToFileURL(file).href);
    await phone.screenshot({ path: join(ARTIFACTS, 'html-report-phone.png'), fullPage: true });

    // Assert: one point per night and series, at the values planted, in order
    const high = await desktop
      .locator('#trend-open circle.point[data-series="high"]')
      .evaluateAll((els) =>
        els.map((el) => [el.getAttribute('data-at'), Number(el.getAttribute('data-value'))]),
      );
    expect(high).toEqual(nights.map((n) => [n.at, n.openBySeverity.high]));
    const cy = await desktop
      .locator('#trend-open circle.point[data-series="high"]')
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('cy'))));
    expect(cy).toEqual([...cy].sort((a, b) => a - b)); // fewer open findings each night: each point lower
    expect(await desktop.locator('#trend-unbilled circle.point').count()).toBe(10);
    expect(await desktop.locator('#trend-open .plot > svg').boundingBox()).toMatchObject({
      width: expect.any(Number),
    });
    // sorted by bytes, largest first on the second click
    await desktop.click('th[data-key="bytes"]');
    await desktop.click('th[data-key="bytes"]');
    const data = await desktop.locator('tbody.finding td.num').allTextContents();
    expect(data.slice(0, 3)).toEqual(['5.00 GiB', '300.0 MiB', '0.0 MiB']);
    // the phone sees the charts one above the other, each within its own scrolling box
    const box = await phone.locator('#trend-open .plot').boundingBox();
    expect(box?.width).toBeLessThanOrEqual(390);
    // Layout at 390 px: nothing scrolls the page sideways, no pill is cut, bucket names stay whole,
    // tick labels are readable, sit left of the plot (never on a line) and do not overlap
    const layout = await phone.evaluate(`(() => {
      const rect = (el) => el.getBoundingClientRect();
      const pills = [...document.querySelectorAll('.sev, .status, .cov')];
      const axis = document.querySelector('#trend-open svg > line:not(.grid)');
      const yTicks = [...document.querySelectorAll('#trend-open text.tick.y')].map(rect);
      const xTicks = [...document.querySelectorAll('#trend-open text.tick.x')].map(rect);
      const overlaps = xTicks.some((a, i) => xTicks.some((b, j) => i < j && a.right > b.left && b.right > a.left));
      return {
        documentWidth: document.documentElement.scrollWidth,
        cutPills: pills.filter((p) => p.scrollWidth > p.clientWidth + 1).map((p) => p.textContent),
        bucketLines: [...document.querySelectorAll('td.bucket')].map((td) => { const r = document.createRange(); r.selectNodeContents(td); return r.getClientRects().length; }),
        gridlines: document.querySelectorAll('#trend-open line.grid').length,
        smallestTick: Math.min(...yTicks.map((r) => r.height), ...xTicks.map((r) => r.height)),
        ticksLeftOfAxis: yTicks.every((r) => r.right <= rect(axis).left),
        xTicksOverlap: overlaps,
      };
    })()`);
    expect(layout).toMatchObject({
      documentWidth: 390,
      cutPills: [],
      gridlines: expect.any(Number),
      ticksLeftOfAxis: true,
      xTicksOverlap: false,
    });
    expect((layout as { gridlines: number }).gridlines).toBeGreaterThanOrEqual(3);
    expect((layout as { smallestTick: number }).smallestTick).toBeGreaterThanOrEqual(9);
    expect(Math.max(...(layout as { bucketLines: number[] }).bucketLines)).toBe(1); // each name on one line, whole
    // the dates under the points, with the time when a day holds several runs (here: one a night)
    expect(await desktop.locator('#trend-open text.tick.x').first().textContent()).toBe('11-20');
    expect(violations).toEqual([]);
    await desktop.close();
    await phone.close();
  });
});
