/**
 * Checks that a value is a well-formed {@link ReportData} before it is rendered, so that a report never shows
 * silently wrong data; every problem is a Left naming the offending field.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ReportData, ReportError } from "./report-data.js";

const fail = (where: string, what: string): E.Either<ReportError, never> =>
  E.left({ kind: "InvalidReportData", message: `${where}: ${what}` });

const show = (v: unknown): string => {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" && v !== null ? "an object" : String(v);
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const STAT_FIELDS = ["paramNorm", "gradNorm", "trustRatio", "updateNorm", "momentumNorm"] as const;
const NULLABLE = new Set(["trustRatio", "momentumNorm"]);

/**
 * `data` as a {@link ReportData}, or a Left naming the first field that is missing or of the wrong type.
 * Numbers may be NaN or ±Infinity (a diverging run is worth a report); step indices must be integers ≥ 0
 * in strictly increasing order; every step has one entry per leaf; leaf paths are unique; at least one step.
 */
export const validateReportData = (data: unknown): E.Either<ReportError, ReportData> => {
  if (!isRecord(data)) return fail("report data", `expected an object, got ${show(data)}`);
  if (data.version !== 1) return fail("version", `expected 1, got ${show(data.version)}`);
  const run = data.run;
  if (!isRecord(run)) return fail("run", `expected an object, got ${show(run)}`);
  if (typeof run.title !== "string") return fail("run.title", `expected a string, got ${show(run.title)}`);
  if (typeof run.optimizer !== "string") return fail("run.optimizer", `expected a string, got ${show(run.optimizer)}`);
  if (!isRecord(run.hyperparams)) return fail("run.hyperparams", `expected an object, got ${show(run.hyperparams)}`);
  for (const [key, value] of Object.entries(run.hyperparams)) {
    if (!(value === null || ["number", "string", "boolean"].includes(typeof value)))
      return fail(`run.hyperparams.${key}`, `expected a number, string, boolean or null, got ${show(value)}`);
  }
  if (!Array.isArray(data.leaves) || data.leaves.length === 0)
    return fail("leaves", `expected a non-empty array, got ${show(data.leaves)}`);
  const paths = new Set<string>();
  for (const [i, leaf] of (data.leaves as unknown[]).entries()) {
    const at = `leaves[${i}]`;
    if (!isRecord(leaf)) return fail(at, `expected an object, got ${show(leaf)}`);
    if (typeof leaf.path !== "string") return fail(`${at}.path`, `expected a string, got ${show(leaf.path)}`);
    if (paths.has(leaf.path)) return fail(`${at}.path`, `duplicate leaf path ${show(leaf.path)}`);
    paths.add(leaf.path);
    if (!Array.isArray(leaf.shape) || !leaf.shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
      return fail(`${at}.shape`, `expected an array of integers ≥ 0, got ${show(leaf.shape)}`);
    if (leaf.dtype !== "float32" && leaf.dtype !== "float64")
      return fail(`${at}.dtype`, `expected "float32" or "float64", got ${show(leaf.dtype)}`);
  }
  if (!Array.isArray(data.steps) || data.steps.length === 0)
    return fail("steps", `expected a non-empty array, got ${show(data.steps)}`);
  let previous = -1;
  for (const [i, step] of (data.steps as unknown[]).entries()) {
    const at = `steps[${i}]`;
    if (!isRecord(step)) return fail(at, `expected an object, got ${show(step)}`);
    if (!Number.isInteger(step.step) || (step.step as number) <= previous)
      return fail(`${at}.step`, `expected an integer > ${previous} (strictly increasing), got ${show(step.step)}`);
    previous = step.step as number;
    for (const key of ["loss", "accuracy"] as const) {
      if (!(step[key] === null || typeof step[key] === "number"))
        return fail(`${at}.${key}`, `expected a number or null, got ${show(step[key])}`);
    }
    if (typeof step.lr !== "number") return fail(`${at}.lr`, `expected a number, got ${show(step.lr)}`);
    if (!Array.isArray(step.leaves) || step.leaves.length !== data.leaves.length)
      return fail(`${at}.leaves`, `expected an array of ${data.leaves.length} leaf entries, got ${show(step.leaves)}`);
    for (const [j, stats] of (step.leaves as unknown[]).entries()) {
      if (!isRecord(stats)) return fail(`${at}.leaves[${j}]`, `expected an object, got ${show(stats)}`);
      for (const field of STAT_FIELDS) {
        const v = stats[field];
        if (!(typeof v === "number" || (v === null && NULLABLE.has(field))))
          return fail(`${at}.leaves[${j}].${field}`, `expected a number${NULLABLE.has(field) ? " or null" : ""}, got ${show(v)}`);
      }
    }
  }
  return E.right(data as unknown as ReportData);
};
