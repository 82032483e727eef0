/**
 * Renders a training run as one self-contained HTML page: uPlot, the page's script and styles and the data are
 * all inlined, and a content-security policy forbids the page any request, so it works offline from file://.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ReportAssets, loadReportAssets } from "./assets.js";
import { escapeHtml, jsonForScript } from "./embed.js";
import { PAGE_SCRIPT } from "./page-script.js";
import { PAGE_STYLE } from "./page-style.js";
import type { HyperValue, ReportData, ReportError } from "./report-data.js";
import { validateReportData } from "./validate.js";

/** No network, no plugins, no frames: only the inline script and styles and data: images. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const showHyper = (v: HyperValue): string => (v === null ? "null" : String(v));

const lastFinite = (values: readonly (number | null)[]): string => {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === "number" && Number.isFinite(v)) return String(Number(v.toPrecision(4)));
  }
  return "—";
};

/**
 * The page for already validated `data` with the given assets (pure: same input, same bytes).
 * Every text from the data is escaped (`escapeHtml` in markup, `jsonForScript` for the data element).
 */
export const renderReportHtml = (data: ReportData, assets: ReportAssets): string => {
  const { run, steps, leaves } = data;
  const chips = Object.keys(run.hyperparams)
    .map((k) => `<li>${escapeHtml(k)} <b>${escapeHtml(showHyper(run.hyperparams[k] ?? null))}</b></li>`)
    .join("");
  const first = steps[0]?.step ?? 0;
  const last = steps[steps.length - 1]?.step ?? 0;
  const summary =
    `${steps.length} recorded steps (${first}–${last}) · ${leaves.length} leaves · ` +
    `final loss ${lastFinite(steps.map((s) => s.loss))}` +
    // a run that records no accuracy (TF.js's fit gives the loss alone) does not show an empty one
    (steps.some((s) => s.accuracy !== null) ? ` · final batch accuracy ${lastFinite(steps.map((s) => s.accuracy))}` : "");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(run.title)} · larch report</title>
<style>${assets.uplotCss}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1 id="run-title">${escapeHtml(run.title)}</h1>
<p class="optimizer" id="run-optimizer">${escapeHtml(run.optimizer)}</p>
<ul class="chips" id="run-hyperparams">${chips}</ul>
<p class="summary" id="run-summary">${escapeHtml(summary)}</p>
</header>

<section id="training">
<h2>Training <small>click a chart to travel to that step</small></h2>
<div class="grid">
<div class="chart"><h3>loss and batch accuracy per step</h3><div id="chart-loss"></div></div>
<div class="chart"><h3>learning-rate schedule</h3><div id="chart-lr"></div></div>
</div>
</section>

<section id="per-leaf">
<h2>Per leaf</h2>
<div class="controls"><label for="leaf-select">leaf</label><select id="leaf-select"></select></div>
<div class="grid">
<div class="chart"><h3>‖p‖, ‖g‖, ‖update‖, ‖momentum‖</h3><div id="chart-norms"></div></div>
<div class="chart"><h3 id="gamma-title">trust ratio γ</h3><div id="chart-gamma"></div></div>
</div>
</section>

<section id="time-travel">
<h2>Time travel <small>the optimizer's per-leaf state at one step</small></h2>
<div class="controls">
<button id="step-prev" type="button" aria-label="previous step">◀</button>
<input id="step-slider" type="range" step="1" aria-label="step">
<button id="step-next" type="button" aria-label="next step">▶</button>
<span class="stepno" id="step-value"></span><span class="note" id="step-index"></span>
</div>
<p class="kv"><span>loss<b id="step-loss"></b></span><span>batch accuracy<b id="step-accuracy"></b></span><span>lr<b id="step-lr"></b></span></p>
<table id="step-table"><thead></thead><tbody></tbody></table>
</section>

<section id="diff">
<h2>Diff of two steps <small id="diff-steps"></small></h2>
<div class="controls">
<label for="diff-a">step A</label><input id="diff-a" type="number" step="1"><button id="diff-a-here" type="button">A ← slider</button>
<label for="diff-b">step B</label><input id="diff-b" type="number" step="1"><button id="diff-b-here" type="button">B ← slider</button>
</div>
<p class="kv"><span>loss<b id="diff-loss"></b></span><span>batch accuracy<b id="diff-accuracy"></b></span><span>lr<b id="diff-lr"></b></span></p>
<table id="diff-table"><thead></thead><tbody></tbody></table>
<p class="note">Each cell: B − A (relative change), then A → B. A step that was not recorded uses the recorded step before it.</p>
</section>

<footer>larch report · self-contained: charts by uPlot, data inlined, no network requests.</footer>
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${assets.uplotJs}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
};

/**
 * The self-contained HTML report of `data`: validates it ({@link validateReportData}), reads uPlot from the
 * installed package, and renders. Never throws; a Left says what is wrong.
 */
export const renderReport = (data: ReportData): E.Either<ReportError, string> => {
  const valid = validateReportData(data);
  if (E.isLeft(valid)) return valid;
  const assets = loadReportAssets();
  if (E.isLeft(assets)) return assets;
  return E.right(renderReportHtml(valid.right, assets.right));
};
