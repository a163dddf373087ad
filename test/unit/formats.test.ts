import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { neutralise, renderCsv } from '../../functions/reports/csv.js';
import { parseFormats } from '../../functions/reports/formats.js';
import { renderHtml } from '../../functions/reports/html.js';
import { escapeMarkdown, renderMarkdown } from '../../functions/reports/markdown.js';
import { hostileReport } from '../support/hostile-report.js';
import { expectValidReport } from '../support/report-schema.js';

describe('the JSON report', () => {
  it('fits the shipped JSON Schema', () => {
    expectValidReport(hostileReport());
  });
});

describe('the CSV report', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])('neutralises a cell starting like %j', (cell) => {
    expect(neutralise(cell)).toBe(`'${cell}`);
  });

  it.each([' =1+1', '\n=HYPERLINK("x")', '  +cmd', '\u00a0-2', '\u200b@SUM(A1)', '\u0007=1', '\t =1'])(
    'neutralises a formula after leading whitespace or control characters: %j (OWASP CSV injection)',
    (cell) => {
      expect(neutralise(cell)).toBe(`'${cell}`);
    },
  );

  it.each(['photos-prod', 'a=b', ' photos', 'x-1'])('leaves a plain cell as it is: %j', (cell) => {
    expect(neutralise(cell)).toBe(cell);
  });

  it('has one row per finding and no cell a spreadsheet would run', () => {
    const report = hostileReport();
    const rows = parse(renderCsv(report)) as string[][];
    expect(rows).toHaveLength(report.findings.length + 1);
    expect(rows[0]?.slice(0, 4)).toEqual(['id', 'status', 'severity', 'rule']);
    for (const cell of rows.slice(1).flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(rows.slice(1).flat()).toContain(`'=cmd|"/c calc"!A1`);
  });
});

describe('the Markdown report', () => {
  it('escapes user-chosen names so they cannot become links, code or table cells', () => {
    expect(escapeMarkdown('a|b*[x](http://y)`z`')).toBe('a\\|b\\*\\[x\\]\\(http://y\\)\\`z\\`');
    const md = renderMarkdown(hostileReport());
    expect(md).toMatch(/^\*\*csdrift drift\*\*: 6 finding\(s\) \(6 new/);
    expect(md).not.toContain('<script>');
  });
});

describe('the HTML report', () => {
  it('escapes every user-chosen text and fetches nothing', () => {
    const html = renderHtml(hostileReport());
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;window.pwned=1&lt;/script&gt;');
    expect(html).toMatch(
      /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-[^']+'/,
    );
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
  });
});

describe('parseFormats', () => {
  it('takes a comma-separated list and refuses unknown formats', () => {
    expect(parseFormats('json, html,csv,md,json')).toEqual(['json', 'html', 'csv', 'md']);
    expect(() => parseFormats('json,pdf')).toThrow(
      '--format pdf: unknown format (known: json, html, csv, md)',
    );
  });
});
