// Short, for a ticket or a chat message: the verdict, the stores, and the findings that matter most.
import type { Report } from '../core/report.js';
import { reportHeadline } from '../core/report.js';
import { visible } from '../core/shell.js';
import { atStake } from '../core/playbooks.js';
import { ownerName } from '../core/model.js';

const MAX_FINDINGS = 20;

/** User-chosen names must not turn into links, emphasis or table cells. */
export function escapeMarkdown(text: string): string {
  return visible(text).replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`);
}

export function renderMarkdown(report: Report): string {
  const s = report.summary;
  const lines = [
    `**csdrift ${report.status.replace('_', ' ')}**: ${s.findings} finding(s) (${s.new} new, ${s.open} open, ${s.suppressed} suppressed), ${s.resolved} resolved.`,
    escapeMarkdown(reportHeadline(report)),
    ...(atStake(report.summary) ? [`At stake: ${atStake(report.summary)}.`] : []),
    '',
    '| store | provider | coverage | buckets in DB / store |',
    '|---|---|---|---|',
    ...report.coverage.map(
      (c) =>
        `| ${escapeMarkdown(c.store.name)} | ${escapeMarkdown(c.store.provider)} | ${c.status}${c.error ? `: ${escapeMarkdown(c.error)}` : ''} | ${c.bucketsInDb} / ${c.bucketsInStore} |`,
    ),
    '',
  ];
  const shown = [...report.findings]
    .sort((a, b) => Number(b.status === 'new') - Number(a.status === 'new'))
    .slice(0, MAX_FINDINGS);
  for (const f of shown) {
    const owner = f.owner ? ` (${escapeMarkdown(ownerName(f.owner))})` : '';
    lines.push(
      `- **${f.severity}** ${f.status === 'new' ? '🆕 ' : ''}\`${f.rule}\` ${escapeMarkdown(f.bucket ?? '-')} on ${escapeMarkdown(f.store.name)}${owner}: ${escapeMarkdown(f.remediation.summary)}${f.status === 'suppressed' ? ' _(suppressed)_' : ''}`,
    );
  }
  if (report.findings.length > shown.length)
    lines.push(`- … and ${report.findings.length - shown.length} more in the full report.`);
  for (const r of report.resolved)
    lines.push(
      `- ✅ resolved: \`${r.rule}\` ${escapeMarkdown(r.bucket ?? '-')} on ${escapeMarkdown(r.store.name)}`,
    );
  // The current view's trail: who did what to which finding, newest first.
  if (report.actions?.length) {
    lines.push('', '**Actions (last 30 days)**', '');
    for (const a of report.actions.slice(0, MAX_FINDINGS))
      lines.push(
        `- ${a.at} ${escapeMarkdown(a.by)} ${a.action}${a.dryRun ? ' (dry run)' : ''}: **${a.outcome}**, \`${a.rule}\` ${escapeMarkdown(a.bucket ?? '-')} on ${escapeMarkdown(a.store)}${a.detail ? `: ${escapeMarkdown(a.detail)}` : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
