import { InvalidInputError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';

export const REPORT_FORMATS = ['json', 'html', 'csv', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const DEFAULT_FORMATS = 'json,html';

export interface Rendered {
  body: string;
  contentType: string;
}

export const RENDERERS: Record<ReportFormat, (report: Report) => Rendered> = {
  json: (report) => ({ body: renderJson(report), contentType: 'application/json' }),
  html: (report) => ({ body: renderHtml(report), contentType: 'text/html; charset=utf-8' }),
  csv: (report) => ({ body: renderCsv(report), contentType: 'text/csv; charset=utf-8' }),
  md: (report) => ({ body: renderMarkdown(report), contentType: 'text/markdown; charset=utf-8' }),
};

export function parseFormats(list: string): ReportFormat[] {
  const formats = [
    ...new Set(
      list
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean),
    ),
  ];
  if (!formats.length) throw new InvalidInputError('--format: give at least one format');
  for (const f of formats) {
    if (!(REPORT_FORMATS as readonly string[]).includes(f)) {
      throw new InvalidInputError(`--format ${f}: unknown format (known: ${REPORT_FORMATS.join(', ')})`);
    }
  }
  return formats as ReportFormat[];
}
