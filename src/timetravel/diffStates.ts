/**
 * Differences between two states of the same form, leaf by leaf and scalar by scalar.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkStateShape } from "./checkStateShape.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { classify } from "./stateKind.js";
import { denseValues, dtypeOf, type Dtype, type Leaf } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
import { arrayPath, recordPath } from "./stateValue.js";

/** How two leaves of the same dtype and shape differ. Indices are flat row-major indices. */
export interface LeafDiff {
  readonly path: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Number of indices i where a_i and b_i differ (Object.is: -0 ≠ 0, NaN = NaN). */
  readonly differing: number;
  /** The smallest such index, or null when the leaves are equal. */
  readonly firstDifferingIndex: number | null;
  /** max_i |a_i − b_i| over differing i (0 if none); NaN when some a_i, b_i has NaN on one side only. */
  readonly maxAbsDiff: number;
  /** max_i |a_i − b_i| / max(|a_i|, |b_i|) over differing i (0 if none; 0 for -0 vs 0; ∞ if |a_i − b_i| = ∞; NaN as above). */
  readonly maxRelDiff: number;
  /** ‖a‖₂ and ‖b‖₂ (four-accumulator convention) and ‖b‖₂ − ‖a‖₂. */
  readonly normA: number;
  readonly normB: number;
  readonly normChange: number;
}

/** A scalar (number, string, boolean or null) that differs between two states; numbers compared by Object.is. */
export interface ScalarDiff {
  readonly path: string;
  readonly a: number | string | boolean | null;
  readonly b: number | string | boolean | null;
}

/** Every leaf's differences (leaf order, equal leaves included) and the differing scalars. */
export interface StateDiff {
  readonly leaves: readonly LeafDiff[];
  readonly scalars: readonly ScalarDiff[];
  /** True when no leaf value and no scalar differs. */
  readonly identical: boolean;
}

/** {@link LeafDiff} of two leaves already known to share dtype and shape. */
const compareLeaves = (a: Leaf, b: Leaf, path: string): LeafDiff => {
  const x = denseValues(a);
  const y = denseValues(b);
  let differing = 0;
  let first = -1;
  let maxAbs = 0;
  let maxRel = 0;
  let nan = false;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (xi === yi ? xi !== 0 || Object.is(xi, yi) : xi !== xi && yi !== yi) continue; // Object.is(xi, yi), fast
    differing++;
    if (first < 0) first = i;
    const d = Math.abs(xi - yi); // |a_i − b_i|
    if (d !== d) {
      nan = true;
      continue;
    }
    if (d > maxAbs) maxAbs = d;
    const rel = d === 0 ? 0 : d === Infinity ? Infinity : d / Math.max(Math.abs(xi), Math.abs(yi)); // |a_i − b_i| / max(|a_i|, |b_i|)
    if (rel > maxRel) maxRel = rel;
  }
  const normA = l2Norm(x);
  const normB = l2Norm(y);
  return Object.freeze({
    path,
    dtype: dtypeOf(a),
    shape: Object.freeze([...a.shape]),
    differing,
    firstDifferingIndex: first < 0 ? null : first,
    maxAbsDiff: nan ? NaN : maxAbs,
    maxRelDiff: nan ? NaN : maxRel,
    normA,
    normB,
    normChange: normB - normA,
  });
};

/**
 * How state `b` differs from state `a`: for every leaf (in leaf order: depth-first, record keys sorted)
 * its {@link LeafDiff}, and every scalar that differs. Left when the states differ in form
 * (see {@link checkStateShape}): then there is nothing to compare element by element.
 * A leaf at two steps is compared by passing the two leaves themselves (path "").
 * @example
 * const d = diffStates(stateAt10, stateAt20); // per leaf: max |a − b|, max relative, ‖a‖, ‖b‖, first differing index
 */
export const diffStates = (a: unknown, b: unknown): E.Either<OptimizerError, StateDiff> => {
  try {
    return diffChecked(a, b);
  } catch (e) {
    return E.left(optimizerError("InvalidTree", `diffStates: a state cannot be read: reading it threw ${showValue(e)}`)); // a Proxy, a getter
  }
};

const diffChecked = (a: unknown, b: unknown): E.Either<OptimizerError, StateDiff> => {
  const checked = checkStateShape(a, b);
  if (E.isLeft(checked)) return checked;
  const leaves: LeafDiff[] = [];
  const scalars: ScalarDiff[] = [];
  // depth first with its own stack (no depth limit; the two are of one finite form): the pair on top is the next in
  // leaf order, so its children go on in reverse
  const stack: { readonly x: unknown; readonly y: unknown; readonly path: string }[] = [{ x: a, y: b, path: "" }];
  while (stack.length > 0) {
    const { x, y, path } = stack.pop()!;
    const nx = classify(x);
    const ny = classify(y);
    if (nx.kind === "leaf" && ny.kind === "leaf") leaves.push(compareLeaves(nx.leaf, ny.leaf, path));
    else if (nx.kind === "array" && ny.kind === "array")
      for (let i = nx.items.length - 1; i >= 0; i--) stack.push({ x: nx.items[i], y: ny.items[i], path: arrayPath(path, i) });
    else if (nx.kind === "record" && ny.kind === "record") {
      const keys = Object.keys(nx.record).sort();
      for (let k = keys.length - 1; k >= 0; k--) stack.push({ x: nx.record[keys[k]!], y: ny.record[keys[k]!], path: recordPath(path, keys[k]!) });
    } else if (!Object.is(x, y)) scalars.push(Object.freeze({ path, a: x as ScalarDiff["a"], b: y as ScalarDiff["b"] }));
  }
  return E.right(
    Object.freeze({
      leaves: Object.freeze(leaves),
      scalars: Object.freeze(scalars),
      identical: scalars.length === 0 && leaves.every((l) => l.differing === 0),
    }),
  );
};
