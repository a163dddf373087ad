import { InvalidInputError } from '../core/errors.js';
import type { Report } from '../core/report.js';
import { renderJson } from './json.js';

export const REPORT_FORMATS = ['json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface Rendered {
  body: string;
  contentType: string;
}

export const RENDERERS: Record<ReportFormat, (report: Report) => Rendered> = {
  json: (report) => ({ body: renderJson(report), contentType: 'application/json' }),
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
