/**
 * The report page's stylesheet (besides uPlot's own).
 * @module
 */
export const PAGE_STYLE = `
:root {
  --ink: #1d2430; --muted: #5d6778; --line: #e2e6ee; --card: #ffffff; --page: #f4f6fa;
  --accent: #2f6fde; --up: #1d63c4; --down: #b0511d;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--page);
}
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; }
header h1 { margin: 0 0 4px; font-size: 22px; font-weight: 650; letter-spacing: -0.01em; }
header .optimizer { margin: 0 0 12px; color: var(--muted); font-size: 14px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; list-style: none; }
.chips li { background: var(--card); border: 1px solid var(--line); border-radius: 999px; padding: 3px 10px;
  font-size: 12.5px; color: var(--muted); }
.chips li b { color: var(--ink); font-weight: 600; font-variant-numeric: tabular-nums; }
.summary { margin-top: 10px; font-size: 13px; color: var(--muted); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  margin-top: 18px; }
section h2 { margin: 0 0 12px; font-size: 16px; font-weight: 620; }
section h2 small { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.chart { min-width: 0; }
.chart h3 { margin: 0 0 4px; font-size: 13px; font-weight: 600; color: var(--muted); }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; margin-bottom: 12px; font-size: 14px; }
.controls label { color: var(--muted); }
select, input[type=number] { font: inherit; font-size: 14px; padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 6px; background: #fff; color: var(--ink); }
input[type=number] { width: 7em; }
input[type=range] { flex: 1 1 320px; accent-color: var(--accent); }
button { font: inherit; font-size: 13px; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; cursor: pointer; }
button:hover { border-color: var(--accent); }
.stepno { font-variant-numeric: tabular-nums; font-weight: 650; min-width: 6em; }
.kv { display: flex; gap: 18px; font-size: 14px; margin: 0 0 10px; flex-wrap: wrap; }
.kv span { color: var(--muted); }
.kv b { font-variant-numeric: tabular-nums; font-weight: 600; margin-left: 4px; }
.kv .change { font-weight: 400; margin-left: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12.5px; background: #fafbfd; }
th:first-child, td:first-child { text-align: left; }
td { font-variant-numeric: tabular-nums; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12.5px; }
td.path { font-family: inherit; font-size: 13.5px; font-weight: 600; }
td.path small { color: var(--muted); font-weight: 400; margin-left: 6px; }
tbody tr:hover { background: #f7f9fd; }
.up { color: var(--up); }
.down { color: var(--down); }
.fromto { display: block; color: var(--muted); font-size: 11px; }
.note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
footer { margin-top: 20px; color: var(--muted); font-size: 12px; }
`;
