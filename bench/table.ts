/** The benchmark's text table and ratios. */
import type { RowResult } from "./row-result.js";

type OkRow = Extract<RowResult, { status: "ok" }>;

/** Peers every row is compared with in the table (by name prefix); the JSON has ratios to every row. */
const REFERENCES: readonly { label: string; prefix: string }[] = [
  { label: "×copy", prefix: "copy floor" },
  { label: "×torch", prefix: "PyTorch seed" },
  { label: "×hand", prefix: "hand loop" },
  { label: "×tfjs-wasm", prefix: "tfjs momentum, wasm" },
];

/** row median / other row median for every other ok row of the same tree. */
export function ratiosTo(row: OkRow, rows: readonly RowResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const other of rows) {
    if (other.status === "ok" && other.tree === row.tree && other.peer !== row.peer) {
      out[other.peer] = row.medianMs / other.medianMs;
    }
  }
  return out;
}

function bytes(n: number | null): string {
  if (n === null) return "-";
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function ms(x: number | null): string {
  if (x === null) return "-";
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function pad(cells: readonly string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  return cells.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

/** Issue 13's optimizers: each one's torch.optim row, larch rows (by path) and traffic floor, by name prefix. */
const OPTIMIZERS: readonly { name: string; torch: string; floor: string }[] = [
  { name: "sgd", torch: "torch.optim sgd,", floor: "sgd traffic floor" },
  { name: "adam", torch: "torch.optim adam,", floor: "adam/adamw traffic floor" },
  { name: "adamw", torch: "torch.optim adamw,", floor: "adam/adamw traffic floor" },
  { name: "lars", torch: "torch.optim seed LARS", floor: "lars traffic floor" },
];
const LOOPS = [
  ["the user's loop (plain, pure)", "applyStep, fresh grads, pure"],
  ["resident, donated", "applyStep, fresh grads, params in kernel memory, donated"],
  ["update + applyUpdates", "update + applyUpdates"],
  ["gradients in kernel memory (pure)", "applyStep, gradients in kernel memory, pure"],
  ["gradients in kernel memory, donated", "applyStep, gradients in kernel memory, donated"],
] as const;

/**
 * The issue's table for the optimizers whose rows ran: per optimizer, torch.optim's step and larch's in each loop
 * as median ms (×torch.optim, and for the user's loop ×its traffic floor); then users' chains against the built-in
 * each is compared with. Empty when no such rows ran.
 */
export function formatOptimizerTable(rows: readonly RowResult[]): string {
  const ok = rows.filter((r): r is OkRow => r.status === "ok");
  const find = (prefix: string) => ok.find((r) => r.peer.startsWith(prefix));
  const lines = OPTIMIZERS.flatMap(({ name, torch, floor }) => {
    const t = find(torch);
    const f = find(floor);
    const cells = LOOPS.map(([, suffix], k) => {
      const r = find(`larch ${name}: ${suffix}`);
      if (r === undefined) return "-";
      const floorRatio = k === 0 && f !== undefined ? `; ${(r.medianMs / f.medianMs).toFixed(2)}x floor` : "";
      return `${ms(r.medianMs)}${t === undefined ? "" : ` (${(r.medianMs / t.medianMs).toFixed(2)}x${floorRatio})`}`;
    });
    if (cells.every((c) => c === "-")) return [];
    return [[name, t === undefined ? "-" : ms(t.medianMs), ...cells, f === undefined ? "-" : ms(f.medianMs)]];
  });
  const users = [
    ["larch larsAdam (docs/composing.md): applyStep, fresh grads, pure", ["larch adam: applyStep, fresh grads, pure", "larch lars: applyStep, fresh grads, pure"]],
    ["larch user's sgd (the pieces chained): applyStep, fresh grads, pure", ["larch sgd: applyStep, fresh grads, pure"]],
    // refuses nothing, so writes over the donated regions in place, where sgd (which refuses NaN) writes beside them
    ["larch user's sgd (the pieces chained): applyStep, fresh grads, params in kernel memory, donated", ["larch sgd: applyStep, fresh grads, params in kernel memory, donated"]],
    ["larch user's sgd (own momentum, defineElementwise): applyStep", ["larch sgd: applyStep, fresh grads, pure"]],
  ] as const;
  const userLines = users.flatMap(([row, against]) => {
    const r = find(row);
    if (r === undefined) return [];
    const vs = against.flatMap((x) => {
      const o = find(x);
      return o === undefined ? [] : [`, ${(r.medianMs / o.medianMs).toFixed(2)}x ${x.replace(/^larch /, "").replace(/: .*/, "")}'s`];
    });
    return [`${r.peer}: ${ms(r.medianMs)} ms${vs.join("")}`];
  });
  if (lines.length === 0 && userLines.length === 0) return "";
  const header = ["optimizer", "torch.optim", ...LOOPS.map(([label]) => label), "floor"];
  return ["", "### The optimizers against torch.optim (median ms; ratios in the same run)", ...(lines.length > 0 ? [pad([header, ...lines])] : []), ...userLines].join("\n");
}

/** One table per tree, then notes and skipped rows. */
export function formatTables(rows: readonly RowResult[], machine: string): string {
  const out: string[] = [`larch bench — ${machine}`];
  const trees = [...new Set(rows.map((r) => r.tree))];
  for (const tree of trees) {
    const inTree = rows.filter((r) => r.tree === tree);
    const ok = inTree.filter((r): r is OkRow => r.status === "ok");
    const first = ok[0];
    out.push("", `## ${tree}${first ? ` (${first.leaves} leaves, ${first.values.toLocaleString("en")} values)` : ""}`);
    const header = ["row", "median ms", "min", "max", "steps", ...REFERENCES.map((r) => r.label), "alloc/step", "peak RSS"];
    const body = ok.map((r) => {
      const ratios = REFERENCES.map(({ prefix }) => {
        const ref = ok.find((o) => o.peer.startsWith(prefix));
        return ref === undefined ? "-" : (r.medianMs / ref.medianMs).toFixed(2);
      });
      return [r.peer, ms(r.medianMs), ms(r.minMs), ms(r.maxMs), String(r.steps), ...ratios,
        bytes(r.allocatedBytesPerStep), bytes(r.peakRssBytes)];
    });
    if (body.length > 0) out.push(pad([header, ...body]));
    const optimizers = formatOptimizerTable(inTree);
    if (optimizers !== "") out.push(optimizers);
    for (const r of ok) if (r.note !== null) out.push(`  note: ${r.peer}: ${r.note}`);
    for (const r of inTree) if (r.status !== "ok") out.push(`  ${r.status}: ${r.peer}: ${r.reason}`);
  }
  return out.join("\n");
}
