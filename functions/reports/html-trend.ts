// The HTML report's trend: open findings by severity and unbilled bytes over the last full runs,
// drawn as inline SVG from the report's own `trend` (the report stays one file that loads nothing).
// Every point carries its run, time and value (data-* and a <title>): readable without hovering.
// Gridlines at round values, their labels left of the plot (never on a line), dates under the points
// (with the time when a day holds several runs); sized so that a phone's labels stay readable.
import escapeHtml from 'escape-html';
import type { TrendPoint } from '../core/report.js';
import { SEVERITIES } from '../core/model.js';
import { humanBytes } from '../core/playbooks.js';

const W = 560;
const H = 220;
const PAD = { left: 76, right: 14, top: 12, bottom: 34 };
const FONT = 12;
const GRID = '#e6e9ef';
const INK = '#5b6475';
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
}

interface Axis {
  /** What one step of the scale is worth (1 for counts; 1 KiB, 1 MiB… for bytes). */
  unit: (max: number) => number;
  label: (v: number) => string;
}

const COUNT: Axis = { unit: () => 1, label: (v) => String(v) };
const BYTES: Axis = {
  unit: (max) => 1024 ** Math.max(0, Math.min(4, Math.floor(Math.log(Math.max(max, 1)) / Math.log(1024)))),
  label: humanBytes,
};

/** Round gridline values from 0 to at least max: 1, 2 or 5 times a power of ten of the axis' unit. */
export function ticks(max: number, axis: Axis): number[] {
  const unit = axis.unit(max);
  const span = Math.max(max / unit, 1);
  const raw = span / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const whole = axis === COUNT ? Math.max(1, Math.ceil(step)) : step;
  const out: number[] = [];
  for (let v = 0; v < span + whole; v += whole) out.push(v * unit);
  return out;
}

/** The dates under the axis: at most six, the time too when a day holds more than one run. */
function dateLabels(points: TrendPoint[]): { i: number; text: string }[] {
  const days = points.map((p) => p.at.slice(0, 10));
  const withTime = new Set(days).size < days.length;
  const count = Math.min(points.length, 6);
  const chosen = new Set(
    Array.from({ length: count }, (_, k) =>
      count === 1 ? 0 : Math.round((k * (points.length - 1)) / (count - 1)),
    ),
  );
  return [...chosen].map((i) => {
    const at = (points[i] as TrendPoint).at;
    return { i, text: withTime ? `${at.slice(5, 10)} ${at.slice(11, 16)}` : at.slice(5, 10) };
  });
}

function chart(id: string, title: string, points: TrendPoint[], series: Series[], axis: Axis): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const grid = ticks(Math.max(0, ...all), axis);
  const top = grid.at(-1) ?? 1;
  const plotW = W - PAD.left - PAD.right;
  const x = (i: number) => PAD.left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const gridLines = grid
    .map(
      (v) =>
        `<line class="grid" x1="${PAD.left}" y1="${y(v).toFixed(1)}" x2="${W - PAD.right}" y2="${y(v).toFixed(1)}" stroke="${GRID}"/>` +
        `<text class="tick y" x="${PAD.left - 8}" y="${(y(v) + FONT / 3).toFixed(1)}" text-anchor="end" font-size="${FONT}" fill="${INK}">${escapeHtml(axis.label(v))}</text>`,
    )
    .join('');
  const dates = dateLabels(points)
    .map(
      ({ i, text }, k, list) =>
        `<text class="tick x" x="${x(i).toFixed(1)}" y="${H - PAD.bottom + FONT + 8}" text-anchor="${list.length > 1 && k === 0 ? 'start' : list.length > 1 && k === list.length - 1 ? 'end' : 'middle'}" font-size="${FONT}" fill="${INK}">${escapeHtml(text)}</text>`,
    )
    .join('');
  const lines = series.map((s) => {
    const coords = s.values.flatMap((v, i) => (v === undefined ? [] : [[x(i), y(v), v, i] as const]));
    const path = coords.map(([cx, cy]) => `${cx.toFixed(1)},${cy.toFixed(1)}`).join(' ');
    const dots = coords
      .map(([cx, cy, v, i]) => {
        const p = points[i] as TrendPoint;
        const what = `${s.name}: ${axis.label(v)} at ${p.at.slice(0, 16).replace('T', ' ')} UTC (run ${p.runId})`;
        return `<circle class="point" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3.5" fill="${s.colour}" data-series="${escapeHtml(s.name)}" data-at="${escapeHtml(p.at)}" data-value="${v}"><title>${escapeHtml(what)}</title></circle>`;
      })
      .join('');
    return `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${path}"/>${dots}`;
  });
  const legend = series
    .map(
      (s) =>
        `<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${s.colour}"/></svg>${escapeHtml(s.name)}</li>`,
    )
    .join('');
  return `<figure class="trend" id="${id}">
<figcaption>${escapeHtml(title)}</figcaption>
<div class="plot"><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" preserveAspectRatio="xMidYMid meet">
${gridLines}
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="${GRID}"/>
${dates}
${lines.join('\n')}
</svg></div>
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
      colour: COLOURS[s] ?? INK,
      values: points.map((p) => p.openBySeverity[s] ?? 0),
    })),
    COUNT,
  );
  const known = points.some((p) => p.unbilledBytes !== undefined);
  const bytes = known
    ? chart(
        'trend-unbilled',
        `Unbilled data, last ${points.length} full run(s)`,
        points,
        [{ name: 'unbilled', colour: '#0b63ce', values: points.map((p) => p.unbilledBytes) }],
        BYTES,
      )
    : '';
  return `<section class="trends"><h2>Trend</h2><div class="charts">${open}${bytes}</div></section>`;
}
