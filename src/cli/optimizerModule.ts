/**
 * `--optimizer MODULE.js`: the optimizer of a run that used a transformation larch cannot rebuild from its
 * recorded spec, loaded from a module the user writes. The module exports it as its default export, or as a named
 * export `optimizer`, or as its only export that is a gradient transformation. It is used for every branch
 * recorded with the same spec (name and hyper-parameters), and refused when no branch was.
 * @module
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { specOf, type GradientTransformation } from "../core/transform.js";
import type { Recording } from "../timetravel/recordingReader.js";
import type { Args } from "./args.js";

const isTransformation = (x: unknown): x is GradientTransformation<any> =>
  typeof x === "object" && x !== null && typeof (x as GradientTransformation).init === "function" && typeof (x as GradientTransformation).update === "function";

/** The transformation a module exports (default, `optimizer`, or its only transformation), or a Left saying what it exports. */
export const loadOptimizer = async (path: string): Promise<E.Either<string, GradientTransformation<any>>> => {
  const file = resolve(path);
  if (!existsSync(file)) return E.left(`--optimizer ${path}: no such file`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return E.left(`--optimizer ${path}: cannot load it: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (isTransformation(module["default"])) return E.right(module["default"]);
  if (isTransformation(module["optimizer"])) return E.right(module["optimizer"]);
  const found = Object.values(module).filter(isTransformation);
  if (found.length === 1) return E.right(found[0]!);
  return E.left(
    `--optimizer ${path} must export the optimizer as its default export or as \`optimizer\` (a gradient transformation, such as chain(...)); ` +
      `it exports ${Object.keys(module).length === 0 ? "nothing" : Object.keys(module).join(", ")}${found.length > 1 ? ` (${found.length} transformations: say which with a default export)` : ""}`,
  );
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The optimizers by branch that `--optimizer` gives, if given: the module's, for each branch recorded with its
 * spec; a Left when no branch was.
 */
export const branchOptimizers = async (args: Args, rec: Recording): Promise<E.Either<string, Record<number, GradientTransformation<any>>>> => {
  const path = args.options.get("optimizer");
  if (path === undefined) return E.right({});
  const loaded = await loadOptimizer(path);
  if (E.isLeft(loaded)) return loaded;
  const spec = JSON.parse(JSON.stringify(specOf(loaded.right))) as unknown;
  const out: Record<number, GradientTransformation<any>> = {};
  for (const b of rec.branches.values()) if (same(b.optimizer, spec)) out[b.branch] = loaded.right;
  if (Object.keys(out).length === 0)
    return E.left(
      `the optimizer of --optimizer ${path} (${JSON.stringify(spec)}) is not the one the recording was run with ` +
        `(${[...rec.branches.values()].map((b) => `branch ${b.branch}: ${JSON.stringify(b.optimizer)}`).join("; ")})`,
    );
  return E.right(out);
};
