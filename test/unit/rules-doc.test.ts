// A rule is one object in the registry: the README's rules table is generated from it (run
// `npm run docs:rules` after adding or changing a rule), and this test holds the two together.
import { readFile } from 'node:fs/promises';
import { format } from 'prettier';
import { describe, expect, it } from 'vitest';
import { rulesCatalogue, rulesMarkdown } from '../../functions/cli/rules-command.js';
import type { RulesConfig } from '../../functions/core/config.js';
import { parseAuditConfig } from '../../functions/core/config.js';
import { RULE_IDS, RULES } from '../../functions/core/rules/index.js';

const START = '<!-- rules table: generated from the registry';
const END = '<!-- end of rules table -->';

describe('the rule registry', () => {
  it("is what the README's rules table says, row for row", async () => {
    const readme = await readFile('README.md', 'utf8');
    const from = readme.indexOf('\n', readme.indexOf(START)) + 1;
    const table = readme.slice(from, readme.indexOf(END)).trim();
    const generated = (await format(rulesMarkdown(), { parser: 'markdown', printWidth: 110 })).trim();
    expect(table).toBe(generated);
  });

  it('lists every rule once, each with a severity, its texts and, for the fixable ones, a remediate option', () => {
    const catalogue = rulesCatalogue();
    expect(catalogue.map((r) => r.id)).toEqual([...RULE_IDS]);
    for (const r of catalogue) {
      expect(r.summary.length).toBeGreaterThan(20);
      expect(r.when.length).toBeGreaterThan(20);
      expect(r.whatToDo.length).toBeGreaterThan(10);
      expect(r.options.includes('remediate')).toBe(r.remediation === 'automated');
    }
    expect(catalogue.filter((r) => r.remediation === 'automated').map((r) => r.id)).toEqual([
      'bucket-missing-in-store',
      'bucket-versioning-mismatch',
      'bucket-encryption-mismatch',
      'bucket-policy-mismatch',
      'bucket-quota-mismatch',
    ]);
    expect(RULES['bucket-usage-drift'].billing).toBe('misbilled');
  });

  it("is what the report's JSON Schema and the contract's rules table list, in the same order", async () => {
    const schema = JSON.parse(await readFile('schema/report.schema.json', 'utf8')) as {
      $defs?: Record<string, { enum?: string[] }>;
      definitions?: Record<string, { enum?: string[] }>;
    };
    const defs = schema.$defs ?? schema.definitions ?? {};
    expect(defs.rule?.enum).toEqual([...RULE_IDS]);
    const contract = await readFile('docs/contract.md', 'utf8');
    const section = contract.slice(contract.indexOf('## Rules'), contract.indexOf('## Targeted audits'));
    expect([...section.matchAll(/^\| `([a-z-]+)`/gm)].map((m) => m[1])).toEqual([...RULE_IDS]);
  });

  it("types each rule's options from its own schema, and checks them with it", () => {
    const config: RulesConfig = {
      'bucket-usage-drift': { tolerancePercent: 5, severity: 'medium' },
      'bucket-missing-in-store': { remediate: true, confirmRuns: 2 },
    };
    // @ts-expect-error: only the size rules take a tolerance (a compile error, and a config error)
    const wrong: RulesConfig = { 'bucket-missing-in-store': { tolerancePercent: 5 } };
    // @ts-expect-error: a tolerance is a number
    const mistyped: RulesConfig = { 'bucket-usage-drift': { tolerancePercent: 'five' } };
    expect(parseAuditConfig({ rules: config }).rules['bucket-usage-drift']?.tolerancePercent).toBe(5);
    expect(() => parseAuditConfig({ rules: wrong })).toThrow(
      'config: rules.bucket-missing-in-store: bucket-missing-in-store does not take "tolerancePercent"',
    );
    expect(() => parseAuditConfig({ rules: mistyped })).toThrow('rules.bucket-usage-drift.tolerancePercent');
  });
});
