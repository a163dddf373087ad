// The HTML report's trend: open findings by severity and unbilled bytes over the last full runs,
// drawn as inline SVG from the report's own `trend` (the report stays one file that loads nothing).
// Every point carries its run, time and value (data-* and a <title>): readable without hovering.
import escapeHtml from 'escape-html';
import type { TrendPoint } from '../core/report.js';
import { SEVERITIES } from '../core/model.js';
import { humanBytes } from '../core/playbooks.js';

const W = 720;
const H = 200;
const PAD = { left: 24, right: 12, top: 12, bottom: 28 };
const COLOURS: Record<string, string> = {
  critical: '#8b0000',
  high: '#c62828',
  medium: '#d97706',
  low: '#4b7f52',
  info: '#5b6475',
};

interface Series {
  name: string;
  colour: string;
  values: (number | undefined)[];
  label: (v: number) => string;
}

function chart(id: string, title: string, points: TrendPoint[], series: Series[]): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const max = Math.max(1, ...all);
  const x = (i: number) =>
    PAD.left +
    (points.length === 1
      ? (W - PAD.left - PAD.right) / 2
      : (i * (W - PAD.left - PAD.right)) / (points.length - 1));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const lines = series.map((s) => {
    const coords = s.values.flatMap((v, i) => (v === undefined ? [] : [[x(i), y(v), v, i] as const]));
    const path = coords.map(([cx, cy]) => `${cx.toFixed(1)},${cy.toFixed(1)}`).join(' ');
    const dots = coords
      .map(([cx, cy, v, i]) => {
        const p = points[i] as TrendPoint;
        const what = `${s.name}: ${s.label(v)} on ${p.at.slice(0, 10)} (run ${p.runId})`;
        return `<circle class="point" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3" fill="${s.colour}" data-series="${escapeHtml(s.name)}" data-at="${escapeHtml(p.at)}" data-value="${v}"><title>${escapeHtml(what)}</title></circle>`;
      })
      .join('');
    return `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${path}"/>${dots}`;
  });
  const first = points[0]?.at.slice(0, 10) ?? '';
  const last = points.at(-1)?.at.slice(0, 10) ?? '';
  const legend = series
    .map(
      (s) =>
        `<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${s.colour}"/></svg>${escapeHtml(s.name)}</li>`,
    )
    .join('');
  return `<figure class="trend" id="${id}">
<figcaption>${escapeHtml(title)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" preserveAspectRatio="xMidYMid meet">
<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#dde2ea"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#dde2ea"/>
<text x="${PAD.left + 4}" y="${PAD.top + 10}" font-size="11" fill="#5b6475">${escapeHtml(series[0]?.label(max) ?? String(max))}</text>
<text x="${PAD.left - 6}" y="${H - PAD.bottom}" text-anchor="end" font-size="11" fill="#5b6475">0</text>
<text x="${PAD.left}" y="${H - 8}" font-size="11" fill="#5b6475">${escapeHtml(first)}</text>
<text x="${W - PAD.right}" y="${H - 8}" text-anchor="end" font-size="11" fill="#5b6475">${escapeHtml(last)}</text>
${lines.join('\n')}
</svg>
<ul class="legend">${legend}</ul>
</figure>`;
}

/** Both charts, or nothing when there is no history yet. */
export function trendCharts(points: TrendPoint[] | undefined): string {
  if (!points?.length) return '';
  const severities = SEVERITIES.filter((s) => points.some((p) => (p.openBySeverity[s] ?? 0) > 0));
  const open = chart(
    'trend-open',
    `Open findings by severity, last ${points.length} full run(s)`,
    points,
    (severities.length ? severities : ['high' as const]).map((s) => ({
      name: s,
      colour: COLOURS[s] ?? '#5b6475',
      values: points.map((p) => p.openBySeverity[s] ?? 0),
      label: (v) => String(v),
    })),
  );
  const known = points.some((p) => p.unbilledBytes !== undefined);
  const bytes = known
    ? chart('trend-unbilled', `Unbilled data, last ${points.length} full run(s)`, points, [
        {
          name: 'unbilled',
          colour: '#0b63ce',
          values: points.map((p) => p.unbilledBytes),
          label: humanBytes,
        },
      ])
    : '';
  return `<section class="trends"><h2>Trend</h2><div class="charts">${open}${bytes}</div></section>`;
}
