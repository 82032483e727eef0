/**
 * Plain-text tables and numbers for the command line.
 * @module
 */

/** A number in at most 6 significant digits (exponent form when very large or small), "-" for null. */
export const showNumber = (x: number | null): string => {
  if (x === null) return "-";
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a >= 1e6 || a < 1e-4 ? x.toExponential(4) : String(Number(x.toPrecision(6)));
};

/** Rows as columns padded to their widest cell; the first row is the heading, underlined. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd();
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
};
