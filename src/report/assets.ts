/**
 * The charting library inlined into every report: uPlot's minified browser build and stylesheet, read from
 * the installed npm package at render time (no network, no copy kept in this repository).
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as E from "fp-ts/lib/Either.js";
import type { ReportError } from "./report-data.js";
import { safeToInline } from "./embed.js";

/** Code and styles placed inside the page. */
export interface ReportAssets {
  /** uPlot's IIFE build; defines the global `uPlot`. */
  readonly uplotJs: string;
  readonly uplotCss: string;
}

const require = createRequire(import.meta.url);

const readAsset = (specifier: string, tag: "script" | "style"): E.Either<ReportError, string> => {
  try {
    const text = readFileSync(require.resolve(specifier), "utf8");
    return safeToInline(text, tag)
      ? E.right(text)
      : E.left({ kind: "MissingAsset", message: `${specifier} contains "</${tag}" and cannot be inlined` });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return E.left({ kind: "MissingAsset", message: `cannot read ${specifier} (is the uplot package installed?): ${reason}` });
  }
};

/** Reads uPlot's `dist/uPlot.iife.min.js` and `dist/uPlot.min.css` from node_modules. */
export const loadReportAssets = (): E.Either<ReportError, ReportAssets> => {
  const js = readAsset("uplot/dist/uPlot.iife.min.js", "script");
  if (E.isLeft(js)) return js;
  const css = readAsset("uplot/dist/uPlot.min.css", "style");
  if (E.isLeft(css)) return css;
  return E.right({ uplotJs: js.right, uplotCss: css.right });
};
