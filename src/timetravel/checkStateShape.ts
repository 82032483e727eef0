/**
 * Whether a state has the form another one expects: the check a caller makes before using a decoded
 * checkpoint, so that a state of another optimizer or of another tree is a Left rather than a surprise.
 * @module
 */
import { isDonated, reusedError } from "../core/donation.js";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import { classify } from "./stateKind.js";
import { MAX_DEPTH } from "./stateStructure.js";
import { dtypeOf } from "../core/leaf.js";
import { arrayPath, leafProblem, recordPath, type State } from "./stateValue.js";

/** The first few names of a list, for messages. */
const listed = (names: readonly string[]): string =>
  names.slice(0, 5).map((n) => JSON.stringify(n)).join(", ") + (names.length > 5 ? `, … (${names.length} in all)` : "");

/** "a number", "an array". */
const withArticle = (noun: string): string => `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;

/**
 * Right(actual) when `actual` has the form of `expected`, else a Left naming the first path (depth-first,
 * keys sorted) where they differ:
 * - the node kinds differ (number, string, boolean, null, leaf, array, record);
 * - records have different keys, or different `kind` tags (the tag of a transform's state);
 * - arrays have different lengths;
 * - leaves have different dtypes ("DtypeMismatch") or shapes ("ShapeMismatch").
 * Both arguments are checked at run time (any value may be passed); a leaf must be a valid float32/float64
 * ndarray view. Values are not compared (numbers, other strings, leaf contents may differ): use diffStates for that.
 * @example
 * checkStateShape(opt.init(params), loaded) // Left "… differ at [1].trace.fc.weight …" for a state of another tree
 */
export const checkStateShape = (expected: unknown, actual: unknown): E.Either<OptimizerError, State> => {
  try {
    return checkShapes(expected, actual);
  } catch (e) {
    return E.left(optimizerError("InvalidTree", `checkStateShape: a state cannot be read: reading it threw ${showValue(e)}`));
  }
};

const checkShapes = (expected: unknown, actual: unknown): E.Either<OptimizerError, State> => {
  const mismatch = (path: string, what: string) =>
    optimizerError("StructureMismatch", `the state differs in form at ${showPath(path)}: ${what}`, { path });

  const check = (e: unknown, a: unknown, path: string, depth = 0): OptimizerError | undefined => {
    if (depth > MAX_DEPTH) return mismatch(path, `nested more than ${MAX_DEPTH} levels deep (a cycle?)`);
    if (isDonated(e) || isDonated(a)) return reusedError(path === "" ? "state" : `part ${showPath(path)} of a state`, path === "" ? undefined : path);
    const x = classify(e);
    const y = classify(a);
    if (x.kind === "other" || y.kind === "other") return mismatch(path, "a value that is not State data");
    if (x.kind !== y.kind) return mismatch(path, `expected ${withArticle(x.kind)}, found ${withArticle(y.kind)}`);
    if (x.kind === "leaf" && y.kind === "leaf") {
      const problem = leafProblem(x.leaf) ?? leafProblem(y.leaf);
      if (problem !== undefined) return mismatch(path, problem);
      const [de, da] = [dtypeOf(x.leaf), dtypeOf(y.leaf)];
      if (de !== da) return optimizerError("DtypeMismatch", `the leaf at ${showPath(path)} is ${da}, expected ${de}`, { path });
      const [se, sa] = [x.leaf.shape, y.leaf.shape];
      if (se.length !== sa.length || se.some((n, k) => n !== sa[k]))
        return optimizerError("ShapeMismatch", `the leaf at ${showPath(path)} has shape [${sa.join(", ")}], expected [${se.join(", ")}]`, { path });
      return undefined;
    }
    if (x.kind === "array" && y.kind === "array") {
      if (x.items.length !== y.items.length)
        return mismatch(path, `an array of ${y.items.length} elements, expected ${x.items.length}`);
      for (let i = 0; i < x.items.length; i++) {
        const found = check(x.items[i]!, y.items[i]!, arrayPath(path, i), depth + 1);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    if (x.kind === "record" && y.kind === "record") {
      const [te, ta] = [x.record["kind"], y.record["kind"]];
      if (typeof te === "string" && typeof ta === "string" && te !== ta)
        return mismatch(path, `the state of a "${ta}" transform where a "${te}" one is expected`);
      const ke = Object.keys(x.record).sort();
      const ka = new Set(Object.keys(y.record));
      const missing = ke.filter((k) => !ka.has(k));
      const extra = [...ka].filter((k) => !(k in x.record)).sort();
      if (missing.length > 0 || extra.length > 0)
        return mismatch(
          path,
          [missing.length > 0 ? `missing keys ${listed(missing)}` : "", extra.length > 0 ? `unexpected keys ${listed(extra)}` : ""]
            .filter((s) => s !== "")
            .join("; "),
        );
      for (const key of ke) {
        const found = check(x.record[key]!, y.record[key]!, recordPath(path, key), depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };

  const found = check(expected, actual, "");
  return found === undefined ? E.right(actual as State) : E.left(found);
};
