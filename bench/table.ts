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
    for (const r of ok) if (r.note !== null) out.push(`  note: ${r.peer}: ${r.note}`);
    for (const r of inTree) if (r.status !== "ok") out.push(`  ${r.status}: ${r.peer}: ${r.reason}`);
  }
  return out.join("\n");
}
