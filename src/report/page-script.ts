/**
 * The report page's script (plain ES2017, run by the browser; needs the global `uPlot` and the
 * `#report-data` JSON element). Draws the charts, drives the step slider (the per-leaf table at one step)
 * and the diff of two steps. It writes data only through textContent and data-* attributes, never as HTML.
 * @module
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent, function (key, value) {
    // Numbers JSON cannot hold arrive as {"$num": "NaN" | "Infinity" | "-Infinity" | "-0"}.
    if (value && typeof value === "object" && !Array.isArray(value) && typeof value.$num === "string" &&
        Object.keys(value).length === 1) return Number(value.$num);
    return value;
  });
  var steps = data.steps;
  var leaves = data.leaves;
  var xs = steps.map(function (s) { return s.step; });
  var FIELDS = [
    { key: "paramNorm", label: "\u2016p\u2016", color: "#2f6fde" },
    { key: "gradNorm", label: "\u2016g\u2016", color: "#d64545" },
    { key: "trustRatio", label: "\u03b3", color: "#d9822b" },
    { key: "updateNorm", label: "\u2016update\u2016", color: "#1f9d6b" },
    { key: "momentumNorm", label: "\u2016momentum\u2016", color: "#8a5cc2" }
  ];
  var cur = steps.length - 1;
  var diffPair = null; // [index of A, index of B] once the diff is shown
  var charts = [];

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "\u2014";
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "+\u221e";
    if (v === -Infinity) return "\u2212\u221e";
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(4);
    return String(Number(v.toPrecision(5)));
  }
  // Axis ticks: short, exponent form without trailing zeros for tiny and huge values (1e-4, 2.5e+6).
  function fmtTick(v) {
    if (v === null || v === undefined) return "";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return Number(v.toPrecision(3)).toExponential();
    return String(Number(v.toPrecision(6)));
  }
  function fmtSigned(v) {
    var s = fmt(v);
    return typeof v === "number" && v > 0 ? "+" + s : s.replace(/^-/, "\u2212");
  }
  function finiteOrNull(v) { return typeof v === "number" && isFinite(v) ? v : null; }
  function positiveOrNull(v) { return typeof v === "number" && isFinite(v) && v > 0 ? v : null; }
  function setValue(node, v, text) {
    node.textContent = text === undefined ? fmt(v) : text;
    node.setAttribute("data-value", String(v));
  }

  // ---- charts -------------------------------------------------------------------------------------
  var marker = {
    hooks: {
      draw: [function (u) {
        var ctx = u.ctx;
        var dpr = devicePixelRatio;
        if (diffPair !== null) {
          // The two diffed steps: thin solid lines labelled A and B at the top of the plot.
          ctx.save();
          ctx.strokeStyle = "rgba(47, 111, 222, 0.35)";
          ctx.fillStyle = "rgba(47, 111, 222, 0.9)";
          ctx.lineWidth = Math.max(1, dpr);
          ctx.font = (11 * dpr) + "px system-ui, sans-serif";
          ctx.textAlign = "center";
          ctx.textBaseline = "bottom";
          ["A", "B"].forEach(function (name, k) {
            var xd = Math.round(u.valToPos(xs[diffPair[k]], "x", true));
            ctx.beginPath();
            ctx.moveTo(xd, u.bbox.top);
            ctx.lineTo(xd, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(name, xd + (k === 0 ? -6 : 6) * dpr, u.bbox.top - 1 * dpr);
          });
          ctx.restore();
        }
        var x = Math.round(u.valToPos(xs[cur], "x", true));
        ctx.save();
        ctx.strokeStyle = "rgba(29, 36, 48, 0.55)";
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      }]
    }
  };
  function chart(containerId, series, scales, axes, columns) {
    var box = $(containerId);
    var u = new uPlot({
      width: Math.max(300, box.clientWidth),
      height: 230,
      cursor: { sync: { key: "larch" }, drag: { x: true, y: false } },
      scales: Object.assign({ x: { time: false } }, scales),
      axes: [{ label: "step", size: 40 }].concat(axes),
      series: [{ label: "step" }].concat(series),
      plugins: [marker]
    }, [xs].concat(columns), box);
    u.over.addEventListener("click", function (event) {
      // From the click's own position, not the cursor's (which uPlot updates on the next animation frame).
      var idx = u.posToIdx(event.clientX - u.over.getBoundingClientRect().left);
      if (idx !== null && idx !== undefined && idx >= 0) setStep(idx);
    });
    u.over.title = "click: show this step in the table below";
    charts.push({ u: u, box: box });
    return u;
  }
  function line(label, color, scale, extra) {
    return Object.assign({ label: label, stroke: color, width: 1.6, scale: scale, value: function (u, v) { return fmt(v); },
      points: { show: false } }, extra || {});
  }
  function axis(scale, label, side) {
    return { scale: scale, label: label, side: side, size: 64, grid: { show: side !== 1 },
      values: function (u, vals) { return vals.map(fmtTick); } };
  }
  // Log axes: ticks at powers of ten (and at 2 and 5 times them when the range spans less than two decades).
  function logAxis(scale, label) {
    return Object.assign(axis(scale, label, 3), {
      filter: function (u, splits) { return splits; },
      splits: function (u, i, min, max) {
        var out = [];
        if (!(min > 0) || !(max > 0)) return out;
        var lo = Math.floor(Math.log10(min));
        var hi = Math.ceil(Math.log10(max));
        var mults = hi - lo < 3 ? [1, 2, 5] : [1];
        var every = Math.max(1, Math.ceil((hi - lo) / 6));
        for (var e = lo; e <= hi; e += every) {
          mults.forEach(function (m) {
            var v = m * Math.pow(10, e);
            if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
          });
        }
        return out;
      }
    });
  }

  chart("chart-loss",
    [line("loss", "#2f6fde", "loss"), line("accuracy", "#d9822b", "acc")],
    { loss: { auto: true }, acc: { range: [0, 1] } },
    [axis("loss", "loss", 3), axis("acc", "accuracy", 1)],
    [steps.map(function (s) { return finiteOrNull(s.loss); }), steps.map(function (s) { return finiteOrNull(s.accuracy); })]);
  chart("chart-lr",
    [line("lr", "#8a5cc2", "lr", { fill: "rgba(138, 92, 194, 0.08)" })],
    { lr: { auto: true } }, [axis("lr", "learning rate", 3)],
    [steps.map(function (s) { return finiteOrNull(s.lr); })]);

  var normFields = FIELDS.filter(function (f) { return f.key !== "trustRatio"; });
  function leafColumns(i, fields, clean) {
    return fields.map(function (f) { return steps.map(function (s) { return clean(s.leaves[i][f.key]); }); });
  }
  var normsChart = chart("chart-norms",
    normFields.map(function (f) { return line(f.label, f.color, "norm"); }),
    { norm: { distr: 3, log: 10 } }, [logAxis("norm", "norm (log scale)")],
    leafColumns(0, normFields, positiveOrNull));
  var gammaChart = chart("chart-gamma",
    [line("\u03b3", "#d9822b", "gamma")],
    { gamma: { auto: true } }, [axis("gamma", "trust ratio \u03b3", 3)],
    leafColumns(0, [FIELDS[2]], finiteOrNull));
  // a leaf whose optimizer keeps no trust ratio (sgd, adam, a group without one) says so instead of an empty chart
  function showGamma(i) {
    var columns = leafColumns(i, [FIELDS[2]], finiteOrNull);
    gammaChart.setData([xs].concat(columns));
    var any = columns[0].some(function (v) { return v !== null; });
    $("gamma-title").textContent = any ? "trust ratio \u03b3" : "trust ratio \u03b3: none recorded for this leaf (its optimizer keeps none)";
  }
  showGamma(0);

  var leafSelect = $("leaf-select");
  leaves.forEach(function (leaf, i) {
    leafSelect.appendChild(el("option", { value: String(i) }, (leaf.path === "" ? "<root>" : leaf.path) + "  [" + leaf.shape.join("\u00d7") + "]"));
  });
  leafSelect.addEventListener("change", function () {
    var i = Number(leafSelect.value);
    normsChart.setData([xs].concat(leafColumns(i, normFields, positiveOrNull)));
    showGamma(i);
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.u.setSize({ width: Math.max(300, c.box.clientWidth), height: 230 }); });
  });

  // ---- table header shared by the step table and the diff table -------------------------------------
  function header(table) {
    var tr = el("tr");
    tr.appendChild(el("th", {}, "leaf"));
    FIELDS.forEach(function (f) { tr.appendChild(el("th", { "data-field": f.key }, f.label)); });
    table.querySelector("thead").appendChild(tr);
  }
  function leafRow(tbody, leaf) {
    var tr = el("tr", { "data-leaf": leaf.path });
    var name = el("td", { "class": "path" }, leaf.path === "" ? "<root>" : leaf.path);
    name.appendChild(el("small", {}, leaf.shape.join("\u00d7") + " " + leaf.dtype));
    tr.appendChild(name);
    FIELDS.forEach(function (f) { tr.appendChild(el("td", { "data-field": f.key })); });
    tbody.appendChild(tr);
    return tr;
  }

  // ---- time travel: the whole per-leaf table at one step ------------------------------------------
  var slider = $("step-slider");
  slider.min = "0";
  slider.max = String(steps.length - 1);
  var stepTable = $("step-table");
  header(stepTable);
  var stepRows = leaves.map(function (leaf) { return leafRow(stepTable.querySelector("tbody"), leaf); });

  function setStep(i) {
    cur = Math.max(0, Math.min(steps.length - 1, i));
    slider.value = String(cur);
    var s = steps[cur];
    setValue($("step-value"), s.step, "step " + s.step);
    $("step-index").textContent = "(" + (cur + 1) + " of " + steps.length + " recorded)";
    setValue($("step-loss"), s.loss);
    setValue($("step-accuracy"), s.accuracy);
    setValue($("step-lr"), s.lr);
    stepRows.forEach(function (tr, j) {
      FIELDS.forEach(function (f) {
        setValue(tr.querySelector('td[data-field="' + f.key + '"]'), s.leaves[j][f.key]);
      });
    });
    charts.forEach(function (c) { c.u.redraw(false, false); });
  }
  slider.addEventListener("input", function () { setStep(Number(slider.value)); });
  $("step-prev").addEventListener("click", function () { setStep(cur - 1); });
  $("step-next").addEventListener("click", function () { setStep(cur + 1); });

  // ---- diff of two steps --------------------------------------------------------------------------
  var diffA = $("diff-a");
  var diffB = $("diff-b");
  [diffA, diffB].forEach(function (input) {
    input.min = String(xs[0]);
    input.max = String(xs[xs.length - 1]);
  });
  diffA.value = String(xs[0]);
  diffB.value = String(xs[xs.length - 1]);
  var diffTable = $("diff-table");
  header(diffTable);
  var diffRows = leaves.map(function (leaf) { return leafRow(diffTable.querySelector("tbody"), leaf); });

  // The recorded step at or before the asked one (the first step if the asked one precedes it).
  function indexAtOrBefore(step) {
    var found = 0;
    for (var i = 0; i < xs.length; i++) if (xs[i] <= step) found = i;
    return found;
  }
  function relative(a, b) {
    if (typeof a !== "number" || typeof b !== "number" || !isFinite(a) || !isFinite(b) || a === 0) return "";
    var r = (b - a) / Math.abs(a) * 100;
    return " (" + (r > 0 ? "+" : r < 0 ? "\u2212" : "") + Math.abs(r).toFixed(Math.abs(r) < 10 ? 2 : 1) + "%)";
  }
  function showChange(td, a, b) {
    var both = typeof a === "number" && typeof b === "number";
    var d = both ? b - a : null;
    td.textContent = "";
    td.appendChild(document.createTextNode(fmtSigned(d) + relative(a, b)));
    td.appendChild(el("span", { "class": "fromto" }, fmt(a) + " \u2192 " + fmt(b)));
    td.className = d > 0 ? "up" : d < 0 ? "down" : "";
    td.setAttribute("data-a", String(a));
    td.setAttribute("data-b", String(b));
    td.setAttribute("data-delta", String(d));
  }
  function updateDiff() {
    var ia = indexAtOrBefore(Number(diffA.value));
    var ib = indexAtOrBefore(Number(diffB.value));
    var a = steps[ia];
    var b = steps[ib];
    diffPair = [ia, ib];
    charts.forEach(function (c) { c.u.redraw(false, false); });
    $("diff-steps").textContent = "step " + a.step + " \u2192 step " + b.step;
    $("diff-steps").setAttribute("data-a", String(a.step));
    $("diff-steps").setAttribute("data-b", String(b.step));
    showChange($("diff-loss"), a.loss, b.loss);
    showChange($("diff-accuracy"), a.accuracy, b.accuracy);
    showChange($("diff-lr"), a.lr, b.lr);
    diffRows.forEach(function (tr, j) {
      FIELDS.forEach(function (f) {
        showChange(tr.querySelector('td[data-field="' + f.key + '"]'), a.leaves[j][f.key], b.leaves[j][f.key]);
      });
    });
  }
  diffA.addEventListener("input", updateDiff);
  diffB.addEventListener("input", updateDiff);
  $("diff-a-here").addEventListener("click", function () { diffA.value = String(xs[cur]); updateDiff(); });
  $("diff-b-here").addEventListener("click", function () { diffB.value = String(xs[cur]); updateDiff(); });

  setStep(cur);
  updateDiff();
  document.body.setAttribute("data-ready", "true");
})();
`;
