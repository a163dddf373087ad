import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

const schema = JSON.parse(
  readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'),
) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
const validate = ajv.compile(schema);

/** The shipped JSON Schema accepts this report. */
export function expectValidReport(report: unknown): void {
  const ok = validate(report);
  expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
}
