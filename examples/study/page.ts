/**
 * `out/study.html`: held-out accuracy against batch size (log scale), one line per optimizer, as an inline SVG,
 * then the table of every run and each optimizer's tuning. A self-contained page: no script, no network.
 * @module
 */
import type { Study, StudyRun } from "./study.js";

const COLOURS: { readonly [name: string]: string } = { lars: "#1b7837", sgd: "#2166ac", adamw: "#b2182b" };
const colourOf = (name: string) => COLOURS[name] ?? "#555";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const percent = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : "—");

/** The optimizers in the order their recipes were given, and their runs sorted by batch size. */
const linesOf = (study: Study): { name: string; runs: StudyRun[] }[] =>
  study.recipes.map((r) => ({
    name: r.name,
    runs: study.runs.filter((run) => run.optimizer === r.name).sort((a, b) => a.batchSize - b.batchSize),
  }));

const TICK_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 25, 50];

/**
 * The accuracy axis in percent: the runs' range widened by half a point on each side, then snapped outwards to
 * the smallest tick step of 0.1, 0.2, 0.5, 1, 2, 5, … points that needs at most 6 intervals; within [0, 100].
 */
export const accuracyAxis = (accuracies: readonly number[]): { readonly lo: number; readonly hi: number; readonly step: number } => {
  const finite = accuracies.filter(Number.isFinite).map((a) => 100 * a);
  if (finite.length === 0) return { lo: 0, hi: 100, step: 20 };
  const [min, max] = [Math.max(0, Math.min(...finite) - 0.5), Math.min(100, Math.max(...finite) + 0.5)];
  const step = TICK_STEPS.find((t) => Math.ceil(max / t - 1e-9) - Math.floor(min / t + 1e-9) <= 6) ?? 50;
  const lo = Math.max(0, Math.floor(min / step + 1e-9) * step);
  const hi = Math.min(100, Math.ceil(max / step - 1e-9) * step);
  return { lo: Number(lo.toFixed(1)), hi: Number(hi.toFixed(1)), step };
};

/** The chart: x = log₂ B over the study's batch sizes, y = held-out accuracy. */
export const chartSvg = (study: Study): string => {
  const [W, H] = [720, 400];
  const m = { left: 64, right: 120, top: 20, bottom: 48 };
  const batches = [...new Set(study.runs.map((r) => r.batchSize))].sort((a, b) => a - b);
  const axis = accuracyAxis(study.runs.map((r) => r.heldOutAccuracy));
  const [lo, hi] = [axis.lo / 100, axis.hi / 100];
  const lx = batches.map(Math.log2);
  const [x0, x1] = [Math.min(...lx), Math.max(...lx)];
  const x = (b: number) => m.left + (x1 > x0 ? ((Math.log2(b) - x0) / (x1 - x0)) * (W - m.left - m.right) : (W - m.left - m.right) / 2);
  const y = (a: number) => m.top + (1 - (Math.min(hi, Math.max(lo, a)) - lo) / (hi - lo)) * (H - m.top - m.bottom);
  const ticks = Array.from({ length: Math.round((axis.hi - axis.lo) / axis.step) + 1 }, (_, i) => (axis.lo + i * axis.step) / 100);
  const parts: string[] = [];
  for (const t of ticks)
    parts.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>`,
      `<text x="${m.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${(100 * t).toFixed(axis.step < 1 ? 1 : 0)}</text>`,
    );
  for (const b of batches)
    parts.push(
      `<line x1="${x(b).toFixed(1)}" x2="${x(b).toFixed(1)}" y1="${m.top}" y2="${H - m.bottom}" class="grid"/>`,
      `<text x="${x(b).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle">${b}</text>`,
    );
  parts.push(
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 8}" text-anchor="middle">batch size (log scale)</text>`,
    `<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">held-out accuracy (%)</text>`,
  );
  linesOf(study).forEach(({ name, runs }, i) => {
    const points = runs.filter((r) => Number.isFinite(r.heldOutAccuracy));
    const colour = colourOf(name);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${points.map((r) => `${x(r.batchSize).toFixed(1)},${y(r.heldOutAccuracy).toFixed(1)}`).join(" ")}"/>`,
      ...points.map(
        (r) =>
          `<circle cx="${x(r.batchSize).toFixed(1)}" cy="${y(r.heldOutAccuracy).toFixed(1)}" r="4.5" fill="${colour}"><title>${escapeHtml(name)}, batch ${r.batchSize}: ${percent(r.heldOutAccuracy)}</title></circle>`,
      ),
      `<line x1="${W - m.right + 16}" x2="${W - m.right + 40}" y1="${m.top + 14 + 22 * i}" y2="${m.top + 14 + 22 * i}" stroke="${colour}" stroke-width="2.5"/>`,
      `<text x="${W - m.right + 46}" y="${m.top + 18 + 22 * i}">${escapeHtml(name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="held-out accuracy against batch size">${parts.join("")}</svg>`;
};

/** The table: a row per batch size, for each optimizer its accuracy (and its peak lr and steps beneath). */
export const tableHtml = (study: Study): string => {
  const lines = linesOf(study);
  const batches = [...new Set(study.runs.map((r) => r.batchSize))].sort((a, b) => a - b);
  const head = `<tr><th>batch size</th>${lines.map((l) => `<th style="color:${colourOf(l.name)}">${escapeHtml(l.name)}</th>`).join("")}</tr>`;
  const rows = batches.map((b) => {
    const cells = lines.map(({ runs }) => {
      const run = runs.find((r) => r.batchSize === b);
      return run
        ? `<td><b>${percent(run.heldOutAccuracy)}</b><br><small>lr ${run.lr.toPrecision(3)} · ${run.steps} steps · ${run.seconds.toFixed(0)} s</small></td>`
        : "<td>—</td>";
    });
    return `<tr><th>${b}</th>${cells.join("")}</tr>`;
  });
  return `<table><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
};

/** The whole page. */
export const studyPage = (study: Study): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(study.title)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } svg { max-width: 100%; height: auto; } svg text { font-size: 12px; fill: #333; }
svg .grid { stroke: #ddd; stroke-width: 1; }
table { border-collapse: collapse; margin: 1rem 0; } th, td { border: 1px solid #ccc; padding: .35rem .7rem; text-align: right; }
td small { color: #666; } dt { font-weight: 600; margin-top: .4rem; } .meta { color: #555; }
</style></head><body>
<h1>${escapeHtml(study.title)}</h1>
<p class="meta">${escapeHtml(study.dataset)} · ${escapeHtml(study.model)} · ${study.epochs} epochs for every run · backend ${escapeHtml(study.backend)} ·
seeds: split ${study.seeds.split}, weights ${study.seeds.init}, shuffles ${study.seeds.shuffle}</p>
${chartSvg(study)}
${tableHtml(study)}
<h2>Tuning</h2>
<p>Every run: ${escapeHtml(study.schedule)}.</p>
<dl>${study.recipes.map((r) => `<dt style="color:${colourOf(r.name)}">${escapeHtml(r.name)}</dt><dd>${escapeHtml(r.tuning)}</dd>`).join("")}</dl>
</body></html>
`;
