/**
 * Dropping steps whose gradients hold NaN or ±Inf (optax's `apply_if_finite`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind } from "../core/elementwise.js";
import { aTransformation, readOptions, required } from "../core/options.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { denseValues } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
import { specOf, type GradientTransformation, type Step, type UpdateContext } from "../core/transform.js";
import { flatten, type Tree } from "../core/tree.js";
import { noUpdates } from "./noUpdates.js";

/**
 * State of {@link skipNonFinite}: steps seen, steps skipped in all and in a row, why the last step was skipped
 * (null if it was not), and the inner transformation's state (as it was before the skipped steps).
 */
export interface SkipNonFiniteState {
  readonly kind: "skipNonFinite";
  readonly count: number;
  readonly skipped: number;
  readonly consecutive: number;
  readonly lastSkip: string | null;
  readonly inner: unknown;
}

/** The first leaf whose norm is not finite (it holds a NaN or ±Inf), as a message; undefined if none. */
const nonFiniteLeaf = (tree: Tree, what: string): E.Either<OptimizerError, string | undefined> => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) return flat;
  for (let k = 0; k < flat.right.leaves.length; k++) {
    const n = l2Norm(denseValues(flat.right.leaves[k]!));
    if (!Number.isFinite(n)) return E.right(`${what} ${showPath(flat.right.paths[k]!)} contains ${Number.isNaN(n) ? "NaN" : "±Inf"}`);
  }
  return E.right(undefined);
};

/**
 * Runs `inner` on steps whose gradient (the updates it is given) is finite; a step whose gradient holds a NaN or
 * ±Inf, or on which `inner` returns a NonFinite Left (such as the NaN parameter that {@link lars}'s trust ratio detects), is skipped:
 *
 *   finite:  (u, s) ← inner(g, s),        skipped unchanged, consecutive ← 0
 *   else:    u ← −0 everywhere, s kept,  skipped ← skipped + 1, consecutive ← consecutive + 1
 *
 * A skipped step returns updates of −0 ({@link noUpdates}), so `applyUpdates` leaves every param as it was, bit
 * for bit, and keeps the inner state as it was; the counts are in the state, like optax's `apply_if_finite`
 * (which this is, without its cap on consecutive skips). Other Lefts of `inner` (a bad state, a bad tree) are returned.
 * @example
 * const opt = skipNonFinite(lars({ lr: 0.1, momentum: 0.9 }));
 */
export const skipNonFinite = <S>(wrapped: GradientTransformation<S>): GradientTransformation<SkipNonFiniteState> => {
  const name = "skipNonFinite";
  const o = readOptions(name, { inner: wrapped }, { inner: required(aTransformation) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const inner = o.right.inner as GradientTransformation<S>;
  const update = (
    updates: Tree,
    state: SkipNonFiniteState,
    params?: Tree,
    context?: UpdateContext,
  ): E.Either<OptimizerError, Step<SkipNonFiniteState>> => {
    const s = stateOfKind<SkipNonFiniteState>(state, "skipNonFinite");
    if (E.isLeft(s)) return s;
    for (const key of ["count", "skipped", "consecutive"] as const) {
      const c = checkCount(name, s.right[key]);
      if (E.isLeft(c)) return c;
    }
    const { count, skipped, consecutive } = s.right;
    const skip = (why: string): E.Either<OptimizerError, Step<SkipNonFiniteState>> => {
      const u = flatten(updates);
      if (E.isLeft(u)) return u;
      return E.right([
        noUpdates(u.right), // u = −0: p + u = p
        Object.freeze({ ...s.right, count: count + 1, skipped: skipped + 1, consecutive: consecutive + 1, lastSkip: why }),
      ] as const);
    };
    // what inner would consume: the gradient itself, or the updates of the members before this one in a chain
    const bad = nonFiniteLeaf(updates, context === undefined || context.grads === updates ? "gradient" : "update");
    if (E.isLeft(bad)) return bad;
    if (bad.right !== undefined) return skip(`${bad.right} at step ${count}`);
    const step = inner.update(updates, s.right.inner as S, params, context);
    if (E.isLeft(step)) return step.left.kind === "NonFinite" ? skip(step.left.message) : step;
    return E.right([
      step.right[0],
      Object.freeze({ kind: "skipNonFinite" as const, count: count + 1, skipped, consecutive: 0, lastSkip: null, inner: step.right[1] }),
    ] as const);
  };
  return Object.freeze({
    name,
    hyperparams: { inner: specOf(inner) },
    init: (params: Tree) =>
      E.map((innerState: S) =>
        Object.freeze({ kind: "skipNonFinite" as const, count: 0, skipped: 0, consecutive: 0, lastSkip: null, inner: innerState }),
      )(inner.init(params)),
    update,
  });
};
