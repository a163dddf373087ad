// One self-contained HTML file an operator opens from the bucket: no fetch of any kind (the CSP
// forbids it), every user-chosen text escaped, and only this file's own script allowed to run.
import { randomBytes } from 'node:crypto';
import escapeHtml from 'escape-html';
import type { Finding, StoreCoverage } from '../core/model.js';
import { SEVERITIES, ownerName } from '../core/model.js';
import type { Report } from '../core/report.js';
import { visible } from '../core/shell.js';
import { atStake, humanBytes } from '../core/playbooks.js';
import { billingOf, coverageLabel, reportHeadline, unverifiedChecks } from '../core/report.js';
import { causeLine } from '../core/cause.js';
import { RULES } from '../core/rules/index.js';
import { whyNoPlan } from '../core/remediation.js';
import { trendCharts } from './html-trend.js';
import { HTML_SCRIPT, HTML_STYLE } from './html-assets.js';

/** Escaped for HTML, with control and bidirectional characters shown as escapes (core/shell.ts). */
const e = (value: unknown): string =>
  escapeHtml(visible(value === null || value === undefined ? '' : String(value)));

function counts(label: string, values: Record<string, number | undefined>): string {
  const items = Object.entries(values).filter(([, n]) => n);
  if (!items.length) return '';
  return `<div class="counts"><h3>${e(label)}</h3><ul>${items.map(([k, n]) => `<li><span class="k">${e(k)}</span> <b>${e(n)}</b></li>`).join('')}</ul></div>`;
}

function ownerText(f: Finding): string {
  if (!f.owner) return '';
  return `${ownerName(f.owner)} (${f.owner.domainPath})`;
}

/** A command or statement as code, with a button that copies it. */
function copyable(text: string): string {
  return `<span class="cmd"><code>${e(text)}</code><button type="button" class="copy" title="copy">copy</button></span>`;
}

/** A remediation step: its text, and each command or SQL between backticks as copyable code. */
function stepHtml(step: string): string {
  const parts = step.split('`');
  if (parts.length % 2 === 0) return e(step); // an unpaired backtick: all of it as text
  return parts.map((part, i) => (i % 2 ? copyable(part) : e(part))).join('');
}

/** Formatted JSON, each line escaped on its own: real line breaks, nothing of the data unescaped. */
function jsonBlock(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((line) => e(line))
    .join('\n');
}

function findingRows(f: Finding): string {
  const sev = SEVERITIES.indexOf(f.severity);
  return `<tbody class="finding" data-status="${e(f.status)}" data-severity="${e(f.severity)}" data-rule="${e(f.rule)}" data-store="${e(f.store.name)}"
    data-sort-status="${f.status === 'new' ? 0 : f.status === 'open' ? 1 : 2}" data-sort-severity="${sev}" data-sort-rule="${e(f.rule)}"
    data-sort-store="${e(f.store.name)}" data-sort-bucket="${e(f.bucket ?? '')}" data-sort-owner="${e(ownerText(f))}" data-sort-first="${e(f.firstSeen)}" data-sort-bytes="${f.bytes ?? -1}">
  <tr class="summary">
    <td><span class="status ${e(f.status)}">${e(f.status)}</span></td>
    <td><span class="sev ${e(f.severity)}">${e(f.severity)}</span></td>
    <td><code>${e(f.rule)}</code> <span class="fid" title="finding ${e(f.id)}">${e(f.id.slice(0, 8))}</span></td>
    <td>${e(f.store.name)}</td>
    <td class="bucket">${e(f.bucket ?? '-')}</td>
    <td>${e(ownerText(f))}</td>
    <td class="num">${f.bytes === undefined ? '' : e(humanBytes(f.bytes))}</td>
    <td>${e(f.firstSeen.slice(0, 16).replace('T', ' '))}</td>
  </tr>
  <tr class="detail"><td colspan="8"><details>
    <summary>${e(f.message)}</summary>
    <p class="fid-line">Finding ${copyable(f.id)}${RULES[f.rule].remediation && !whyNoPlan(f) ? ` · automated fix: ${copyable(`csdrift remediate --finding ${f.id}`)}` : ''}</p>${
      f.cause
        ? `
    <p class="cause">Cause: ${e(causeLine(f.cause))}</p>`
        : ''
    }
    <div class="cols">
      <div><h4>Remediation</h4><p>${e(f.remediation.summary)}</p><ol>${f.remediation.steps.map((s) => `<li>${stepHtml(s)}</li>`).join('')}</ol></div>
      <div><h4>Evidence</h4><pre>${jsonBlock({ findingId: f.id, ...(f.lastVerifiedAt ? { lastVerifiedAt: f.lastVerifiedAt } : {}), ...attributeDrift(f), owner: f.owner, dbBucket: f.dbBucket, ...f.evidence })}</pre></div>
    </div>
  </details></td></tr>
</tbody>`;
}

/** For attribute findings: CloudStack's value against the store's, first thing in the evidence. */
function attributeDrift(f: Finding): Record<string, unknown> {
  return f.attribute === undefined ? {} : { attribute: f.attribute, cloudstack: f.expected, store: f.actual };
}

/** The store's error, then each check that is not verified and why. */
function coverageWhy(c: StoreCoverage): string {
  const notes = Object.entries(c.evidence.checkNotes ?? {})
    .filter(([rule]) => c.checks[rule as keyof typeof c.checks] === 'unverified')
    .map(([rule, why]) => `${rule}: ${why}`);
  // The current view: when the whole store was last seen verified.
  const verified =
    c.lastFullVerification === undefined
      ? undefined
      : `last fully verified ${c.lastFullVerification ?? 'never'}`;
  return [c.error, ...notes, verified].filter(Boolean).join('; ');
}

/** Unbilled and misbilled data per store, over unsuppressed findings of known size. */
function stakeByStore(report: Report): string {
  const rows = report.coverage.flatMap((c) => {
    const mine = report.findings.filter((f) => f.status !== 'suppressed' && f.store.uuid === c.store.uuid);
    const sum = (kind: 'unbilled' | 'misbilled') =>
      mine.filter((f) => billingOf(f.rule) === kind).reduce((n, f) => n + (f.bytes ?? 0), 0);
    const unbilled = sum('unbilled');
    const misbilled = sum('misbilled');
    const gone = mine.reduce((n, f) => n + (f.billedButGoneBytes ?? 0), 0);
    return unbilled || misbilled || gone
      ? [
          `<tr><td>${e(c.store.name)}</td><td class="num">${e(humanBytes(unbilled))}</td><td class="num">${e(humanBytes(misbilled))}</td><td class="num">${e(humanBytes(gone))}</td></tr>`,
        ]
      : [];
  });
  if (!rows.length) return '';
  // Scrolls on its own on a phone: four columns must not widen the page.
  return `<div class="scroll"><table class="stake-by-store"><thead><tr><th>store</th><th>unbilled</th><th>misbilled</th><th>billed, gone</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function options(values: string[]): string {
  return [...new Set(values)]
    .sort()
    .map((v) => `<option value="${e(v)}">${e(v)}</option>`)
    .join('');
}

export function renderHtml(report: Report): string {
  const nonce = randomBytes(16).toString('base64');
  const findings = [...report.findings].sort(
    (a, b) =>
      Number(b.status === 'new') - Number(a.status === 'new') ||
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity),
  );
  const byStore = Object.fromEntries(
    report.coverage.map((c) => [c.store.name, findings.filter((f) => f.store.uuid === c.store.uuid).length]),
  );
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CloudStack drift: ${e(report.status)} (${e(report.runId)})</title>
<style>${HTML_STYLE}</style></head>
<body>
<header class="run ${e(report.status)}">
  <h1>CloudStack object storage drift <span class="verdict">${e(report.status.replace('_', ' '))}</span></h1>
  <p>${e(s.findings)} finding(s): <b>${e(s.new)}</b> new, ${e(s.open)} open, ${e(s.suppressed)} suppressed; ${e(s.resolved)} resolved this run.
  <b class="headline">${e(reportHeadline(report))}</b>${report.kind === 'current' ? '' : `; CloudStack ${e(report.cloudstack.schema)} database <code>${e(report.cloudstack.database)}</code>`}.</p>
  ${atStake(s) ? `<p class="stake">At stake: <b>${e(atStake(s))}</b>.</p>` : ''}
  ${stakeByStore(report)}
</header>
${trendCharts(report.trend?.points)}
<section><h2>Coverage</h2>
<div class="scroll"><table class="coverage"><thead><tr><th>store</th><th>provider</th><th>endpoint</th><th>status</th><th>buckets in DB</th><th>in store</th><th>requests</th><th>why</th></tr></thead><tbody>
${report.coverage
  .map(
    (
      c,
    ) => `<tr class="${e(c.status)}"><td>${e(c.store.name)}</td><td>${e(c.store.provider)}</td><td><code>${e(c.store.endpoint)}</code></td>
<td><span class="cov ${e(c.status)}${unverifiedChecks(c).length ? ' checks-open' : ''}">${e(coverageLabel(c))}</span></td><td>${e(c.bucketsInDb)}</td><td>${e(c.bucketsInStore)}</td><td>${e(c.evidence.requests)}</td><td>${e(coverageWhy(c))}</td></tr>`,
  )
  .join('\n')}
</tbody></table></div></section>
<section class="tallies">${counts('By severity', s.bySeverity)}${counts('By rule', s.byRule)}${counts('By store', byStore)}</section>
<section><h2>Findings</h2>
<form class="filters" id="filters">
  <input type="search" id="q" placeholder="filter: bucket, owner, text…" aria-label="filter findings">
  <select id="f-status" aria-label="status"><option value="">any status</option>${options(findings.map((f) => f.status))}</select>
  <select id="f-severity" aria-label="severity"><option value="">any severity</option>${options(findings.map((f) => f.severity))}</select>
  <select id="f-rule" aria-label="rule"><option value="">any rule</option>${options(findings.map((f) => f.rule))}</select>
  <select id="f-store" aria-label="store"><option value="">any store</option>${options(findings.map((f) => f.store.name))}</select>
  <span id="shown">${e(findings.length)} shown</span>
</form>
<div class="scroll"><table class="findings" id="findings"><thead><tr>
  <th data-key="status">status</th><th data-key="severity">severity</th><th data-key="rule">rule</th><th data-key="store">store</th>
  <th data-key="bucket">bucket</th><th data-key="owner">owner</th><th data-key="bytes">data</th><th data-key="first">first seen</th></tr></thead>
${findings.map(findingRows).join('\n')}
</table></div>
${findings.length ? '' : '<p class="none">No findings.</p>'}
</section>
${
  report.resolved.length
    ? `<section><h2>Resolved this run</h2><ul>${report.resolved.map((r) => `<li><code>${e(r.rule)}</code> ${e(r.bucket ?? '-')} on ${e(r.store.name)} (first seen ${e(r.firstSeen)})</li>`).join('')}</ul></section>`
    : ''
}
${
  report.actions?.length
    ? `<section><h2>Actions (last 30 days)</h2><div class="scroll"><table><tr><th>when</th><th>by</th><th>action</th><th>outcome</th><th>finding</th><th>detail</th></tr>${report.actions.map((a) => `<tr><td>${e(a.at)}</td><td>${e(a.by)}</td><td>${e(a.action)}${a.dryRun ? ' (dry run)' : ''}</td><td>${e(a.outcome)}</td><td><code>${e(a.rule)}</code> ${e(a.bucket ?? '-')} on ${e(a.store)}</td><td>${e(a.detail ?? '')}</td></tr>`).join('')}</table></div></section>`
    : ''
}
${
  report.expiredSuppressions.length
    ? `<section><h2>Expired suppressions</h2><ul>${report.expiredSuppressions.map((x) => `<li><code>${e(x.rule)}</code> ${e(x.bucket)} on ${e(x.store)}: expired ${e(x.expires)} (${e(x.owner)}: ${e(x.reason)})</li>`).join('')}</ul></section>`
    : ''
}
<script nonce="${nonce}">${HTML_SCRIPT}</script>
</body></html>
`;
}
