/**
 * Whether a state has the form another one expects: the check a caller makes before using a decoded
 * checkpoint, so that a state of another optimizer or of another tree is a Left rather than a surprise.
 * @module
 */
import { isDonated, reusedError } from "../core/donation.js";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import { classify } from "./stateKind.js";
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

/** Two arrays or records being compared, child by child (record keys sorted), each child read when it is compared. */
interface Frame {
  readonly e: { readonly [key: string]: unknown };
  readonly a: { readonly [key: string]: unknown };
  readonly path: string;
  /** the sorted keys of two records, or null for two arrays */
  readonly keys: readonly string[] | null;
  readonly length: number;
  next: number;
}

const checkShapes = (expected: unknown, actual: unknown): E.Either<OptimizerError, State> => {
  const mismatch = (path: string, what: string) =>
    optimizerError("StructureMismatch", `the state differs in form at ${showPath(path)}: ${what}`, { path });
  const stack: Frame[] = [];
  const openE = new Set<object>(); // the containers of the stack's frames on each side, to find cycles
  const openA = new Set<object>();

  /** Compares one pair of nodes: the first difference, or undefined (the frame of two containers pushed). */
  const enter = (e: unknown, a: unknown, path: string): OptimizerError | undefined => {
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
    if ((x.kind === "array" || x.kind === "record") && (openE.has(e as object) || openA.has(a as object)))
      return mismatch(path, `the ${openE.has(e as object) ? "expected" : "given"} state contains itself (a cycle)`);
    if (x.kind === "array" && y.kind === "array") {
      if (x.items.length !== y.items.length)
        return mismatch(path, `an array of ${y.items.length} elements, expected ${x.items.length}`);
      push(e, a, path, null, x.items.length);
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
      push(e, a, path, ke, ke.length);
    }
    return undefined;
  };
  const push = (e: unknown, a: unknown, path: string, keys: readonly string[] | null, length: number): void => {
    const frame = { e: e as Frame["e"], a: a as Frame["a"], path, keys, length, next: 0 };
    openE.add(frame.e);
    openA.add(frame.a);
    stack.push(frame);
  };

  // depth first with its own stack (no depth limit), children in order: the first difference of a recursive walk
  let found = enter(expected, actual, "");
  while (found === undefined && stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.length) {
      const i = frame.next++;
      const key = frame.keys === null ? undefined : frame.keys[i]!;
      found = key === undefined ? enter(frame.e[i], frame.a[i], arrayPath(frame.path, i)) : enter(frame.e[key], frame.a[key], recordPath(frame.path, key));
      continue;
    }
    stack.pop();
    openE.delete(frame.e);
    openA.delete(frame.a);
  }
  return found === undefined ? E.right(actual as State) : E.left(found);
};
