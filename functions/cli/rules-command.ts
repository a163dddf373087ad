// `csdrift rules [--json]`: every rule from the registry, with its default severity, what it finds,
// when exactly it reports and what to do. The README's rules table is this command's Markdown
// (`csdrift rules --markdown`), checked against the registry by test/unit/rules-doc.test.ts.
import { RULE_LIST } from '../core/rules/index.js';
import type { Io } from './audit-command.js';

export interface RulesFlags {
  json?: boolean;
  markdown?: boolean;
}

/** What `csdrift rules --json` prints for each rule (docs/contract.md, "Command line"). */
export function rulesCatalogue() {
  return RULE_LIST.map((r) => ({
    id: r.id,
    defaultSeverity: r.defaultSeverity,
    summary: r.summary,
    when: r.when,
    whatToDo: r.whatToDo,
    reads: r.reads,
    needs: r.needs,
    storeLevel: r.storeLevel === true,
    attributes: [...(r.scan?.attributes ?? [])],
    options: [
      'enabled',
      'severity',
      'confirmRuns',
      ...(r.remediation ? ['remediate'] : []),
      ...Object.keys(r.options ?? {}),
    ],
    billing: r.billing ?? null,
    remediation: r.remediation ? 'automated' : 'manual',
  }));
}

/** The README's rules table (before prettier aligns it). */
export function rulesMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| rule | default severity | when | what to do | reads |',
    '| --- | --- | --- | --- | --- |',
    ...RULE_LIST.map(
      (r) =>
        `| \`${r.id}\` | ${r.defaultSeverity} | ${cell(r.when)} | ${cell(r.whatToDo)} | ${cell(r.reads)} |`,
    ),
  ].join('\n');
}

export async function rulesCommand(flags: RulesFlags, io: Io): Promise<number> {
  if (flags.json) await io.stdout(`${JSON.stringify(rulesCatalogue(), null, 2)}\n`);
  else if (flags.markdown) await io.stdout(`${rulesMarkdown()}\n`);
  else {
    const width = Math.max(...RULE_LIST.map((r) => r.id.length));
    const lines = RULE_LIST.map(
      (r) =>
        `${r.id.padEnd(width)}  ${r.defaultSeverity.padEnd(6)}  ${r.remediation ? 'fix ' : '    '}  ${r.summary}`,
    );
    await io.stdout(
      `${lines.join('\n')}\n\n'fix': csdrift remediate can carry out its fix. csdrift rules --json for all of it.\n`,
    );
  }
  return 0;
}
