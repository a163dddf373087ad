import type { Report } from '../core/report.js';
import { coverageLabel, reportHeadline, unverifiedChecks } from '../core/report.js';
import { visible } from '../core/shell.js';
import { changeLine } from '../core/notifications.js';
import { atStake, humanBytes } from '../core/playbooks.js';
import { ownerName } from '../core/model.js';

/** A short human summary for standard output when --json is not given. */
export function formatSummary(report: Report, reportPath: string | undefined): string {
  const lines = [`status: ${report.status} (${report.summary.findings} finding(s), run ${report.runId})`];
  // A scoped run (older reports have no scope) says what it covered.
  const buckets = report.scope?.buckets ?? [];
  if (buckets.length)
    lines.push(
      `  targeted: ${buckets.length} bucket(s): ${buckets.slice(0, 5).join(', ')}${buckets.length > 5 ? ', …' : ''}`,
    );
  if (report.kind === 'current') lines.push(`  ${reportHeadline(report)}`);
  const stake = atStake(report.summary);
  if (stake) lines.push(`  at stake: ${stake}`);
  // A full run with a full run before it says what changed, as the digest's first line does.
  if (report.trend?.previous) lines.push(`  since the last full run: ${changeLine(report)}`);
  const strays = report.cloudstack.rowsWithoutStore;
  if (strays)
    lines.push(
      `  ${strays.count} bucket row(s) name no store (object_store_id is not a store id): ids ${strays.bucketIds.join(', ')}`,
    );
  for (const c of report.coverage) {
    lines.push(
      `  store ${c.store.name} (${c.store.provider}): ${coverageLabel(c)}${c.error ? ` - ${c.error}` : ''}`,
    );
    for (const { rule, why } of unverifiedChecks(c)) lines.push(`    not verified: ${rule}: ${why}`);
  }
  for (const f of report.findings) {
    const owner = f.owner ? ` [${ownerName(f.owner)}]` : '';
    const data =
      (f.bytes === undefined ? '' : `, ${humanBytes(f.bytes)}`) +
      (f.billedButGoneBytes ? `, ${humanBytes(f.billedButGoneBytes)} billed a period` : '');
    // The finding's id: what `csdrift remediate --finding ID` and a suppression ask for.
    lines.push(
      `  ${f.severity.padEnd(8)} ${f.rule}: ${f.bucket ?? '-'} on ${f.store.name}${owner}${data}${f.status === 'suppressed' ? ' (suppressed)' : ''}  [${f.id}]`,
    );
  }
  if (reportPath) lines.push(`report: ${reportPath}`);
  return `${lines.map(visible).join('\n')}\n`;
}
