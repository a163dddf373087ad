// The HTML report's inline style and script. Kept apart from the markup so each reads in one go.

export const HTML_STYLE = `
:root { --bg:#fff; --fg:#1d2330; --muted:#5b6475; --line:#dde2ea; --new:#0b63ce; --crit:#8b0000; --high:#c62828; --med:#d97706; --low:#4b7f52; --info:#5b6475; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 3rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; } h3 { font-size: .85rem; margin: 0 0 .3rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; } h4 { margin: .2rem 0; }
header.run { border-left: 6px solid var(--low); padding: .6rem 1rem; background: #f6f8fb; border-radius: 4px; }
header.run.drift { border-color: var(--high); } header.run.incomplete { border-color: var(--med); } header.run.error { border-color: var(--crit); }
.verdict { font-size: .9rem; padding: .15rem .55rem; border-radius: 999px; background: var(--fg); color: #fff; vertical-align: middle; margin-left: .5rem; text-transform: uppercase; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .8rem; color: var(--muted); white-space: nowrap; } table.findings th { cursor: pointer; user-select: none; } table.findings th[aria-sort]::after { content: " ▾"; } table.findings th[aria-sort=ascending]::after { content: " ▴"; }
td.bucket { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; } .fid { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .75rem; color: var(--muted); white-space: nowrap; }
.cmd { display: inline-flex; align-items: baseline; gap: .3rem; max-width: 100%; } .cmd code { background: #f0f3f8; padding: .05rem .3rem; border-radius: 3px; overflow-wrap: anywhere; }
button.copy { font: inherit; font-size: .7rem; padding: 0 .35rem; border: 1px solid var(--line); border-radius: 3px; background: #fff; color: var(--muted); cursor: pointer; flex: none; }
.fid-line { margin: .3rem 0; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; } pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fb; padding: .5rem; border-radius: 4px; margin: 0; }
.sev, .status, .cov { display: inline-block; white-space: nowrap; padding: .05rem .45rem; border-radius: 3px; font-size: .8rem; font-weight: 600; color: #fff; background: var(--info); }
.sev.critical { background: var(--crit); } .sev.high { background: var(--high); } .sev.medium { background: var(--med); } .sev.low { background: var(--low); }
.status.new { background: var(--new); } .status.open { background: var(--muted); } .status.suppressed { background: #9aa3b2; }
.cov.verified { background: var(--low); } .cov.verified.checks-open { background: var(--med); } .cov.partial, .cov.unreachable, .cov.auth_failed { background: var(--high); } .cov.skipped { background: #9aa3b2; }
tr.detail td { border-bottom: 2px solid var(--line); padding-top: 0; } details summary { cursor: pointer; color: var(--muted); }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; margin-top: .4rem; } ol { margin: .3rem 0; padding-left: 1.3rem; } li { margin: .15rem 0; word-break: break-word; }
.tallies { display: flex; flex-wrap: wrap; gap: 2rem; margin-top: 1rem; } .counts ul { list-style: none; padding: 0; margin: 0; } .counts li { display: flex; justify-content: space-between; gap: 1rem; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: .5rem; } .filters input { min-width: min(18rem, 100%); } .filters input, .filters select { padding: .3rem; font: inherit; }
#shown { color: var(--muted); margin-left: auto; } .none { color: var(--muted); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.stake-by-store { width: auto; margin-top: .4rem; } table.stake-by-store td, table.stake-by-store th { padding: .15rem .8rem .15rem 0; border: 0; }
.charts { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.5rem; } figure.trend { margin: 0; min-width: 0; } figure.trend .plot { overflow-x: auto; } figure.trend .plot > svg { width: 100%; min-width: 460px; max-width: 760px; height: auto; display: block; } .legend li { display: flex; align-items: center; gap: .3rem; margin: 0; }
figure.trend figcaption { font-size: .85rem; color: var(--muted); margin-bottom: .2rem; } .legend { list-style: none; display: flex; flex-wrap: wrap; gap: .8rem; padding: 0; margin: .2rem 0 0; font-size: .8rem; }
@media (max-width: 900px) { .cols, .charts { grid-template-columns: minmax(0, 1fr); } table.findings td:nth-child(6), table.findings th:nth-child(6) { display: none; } }
@media (max-width: 600px) { body { padding: .6rem .6rem 2rem; } header.run { padding: .5rem .6rem; } .filters input, .filters select { flex: 1 1 100%; } #shown { margin-left: 0; } }
@media print { @page { size: A4; margin: 12mm; } .filters { display: none; } body { max-width: none; padding: 0; font-size: 11px; } tbody.finding, figure.trend { break-inside: avoid; } details > summary { list-style: none; } }
`;

// Sorts and filters the server-rendered rows; never builds HTML from data.
export const HTML_SCRIPT = `
(() => {
  const table = document.getElementById('findings');
  const bodies = () => Array.from(table.querySelectorAll('tbody.finding'));
  const value = (id) => document.getElementById(id).value;
  function filter() {
    const q = value('q').trim().toLowerCase();
    const want = { status: value('f-status'), severity: value('f-severity'), rule: value('f-rule'), store: value('f-store') };
    let shown = 0;
    for (const b of bodies()) {
      const ok = Object.entries(want).every(([k, v]) => !v || b.dataset[k] === v) && (!q || b.textContent.toLowerCase().includes(q));
      b.hidden = !ok;
      if (ok) shown++;
    }
    document.getElementById('shown').textContent = shown + ' shown';
  }
  document.getElementById('filters').addEventListener('input', filter);
  document.getElementById('filters').addEventListener('submit', (ev) => ev.preventDefault());
  for (const th of table.querySelectorAll('th[data-key]')) {
    th.addEventListener('click', () => {
      const key = 'sort' + th.dataset.key[0].toUpperCase() + th.dataset.key.slice(1);
      const asc = th.getAttribute('aria-sort') !== 'ascending';
      for (const other of table.querySelectorAll('th')) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      const sorted = bodies().sort((a, b) => {
        const x = a.dataset[key], y = b.dataset[key];
        const n = Number(x) - Number(y);
        const c = Number.isNaN(n) ? x.localeCompare(y) : n;
        return asc ? c : -c;
      });
      for (const b of sorted) table.appendChild(b);
    });
  }
  // Copy buttons: the clipboard where the page may use it (file:// may not); else the text selected.
  for (const button of document.querySelectorAll('button.copy')) {
    button.addEventListener('click', () => {
      const code = button.previousElementSibling;
      const select = () => { const range = document.createRange(); range.selectNodeContents(code); const s = getSelection(); s.removeAllRanges(); s.addRange(range); };
      const done = (word) => { button.textContent = word; setTimeout(() => { button.textContent = 'copy'; }, 1500); };
      select();
      done('selected');
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(code.textContent).then(() => done('copied'), () => {});
    });
  }
  window.addEventListener('beforeprint', () => { for (const d of document.querySelectorAll('details')) d.open = true; });
})();
`;
