/**
 * Dropping steps whose gradient is too large (optax's `skip_large_updates`, as `MultiSteps`' skip test).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, aTransformation, readOptions, required } from "../core/options.js";
import { denseValues } from "../core/leaf.js";
import { sumOfSquares } from "../core/norm.js";
import { specOf, type GradientTransformation, type Step, type UpdateContext } from "../core/transform.js";
import { flatten, type Tree } from "../core/tree.js";
import { noUpdates } from "./noUpdates.js";

/**
 * State of {@link skipLargeUpdates}: steps seen, steps skipped, the squared norm ‖g‖² of the last step's gradient
 * (NaN before the first), and the inner transformation's state (as it was before the skipped steps).
 */
export interface SkipLargeUpdatesState {
  readonly kind: "skipLargeUpdates";
  readonly count: number;
  readonly skipped: number;
  readonly normSquared: number;
  readonly inner: unknown;
}

/**
 * Runs `inner` on steps whose gradient (the updates it is given) has a squared global norm below c, and skips the
 * others:
 *
 *   ‖g‖² = Σ over every leaf of Σ gᵢ²  (float64)
 *   ‖g‖² < c:  (u, s) ← inner(g, s)
 *   else:      u ← −0 everywhere ({@link noUpdates}: params unchanged), inner state kept, skipped ← skipped + 1
 *
 * A NaN or ±Inf in g gives ‖g‖² NaN or +Inf, which is not below c, so such a step is skipped too. This is optax's
 * `MultiSteps(inner, 1, should_skip_update_fn=partial(skip_large_updates, max_squared_norm=c))`. c must be a number
 * > 0 (+Inf skips only non-finite gradients).
 * @example
 * const opt = skipLargeUpdates(adam({ lr: 1e-3 }), 100); // skip steps with ‖g‖ ≥ 10
 */
export const skipLargeUpdates = <S>(wrapped: GradientTransformation<S>, maxSquared: number): GradientTransformation<SkipLargeUpdatesState> => {
  const name = "skipLargeUpdates";
  const o = readOptions(name, { inner: wrapped, maxSquaredNorm: maxSquared }, { inner: required(aTransformation), maxSquaredNorm: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { inner, maxSquaredNorm } = o.right as { inner: GradientTransformation<S>; maxSquaredNorm: number };
  const hyperparams = { maxSquaredNorm, inner: specOf(inner) };
  if (!(maxSquaredNorm > 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid max squared norm: ${maxSquaredNorm} (must be a number > 0)`));
  const update = (
    updates: Tree,
    state: SkipLargeUpdatesState,
    params?: Tree,
    context?: UpdateContext,
  ): E.Either<OptimizerError, Step<SkipLargeUpdatesState>> => {
    const s = stateOfKind<SkipLargeUpdatesState>(state, "skipLargeUpdates");
    if (E.isLeft(s)) return s;
    for (const key of ["count", "skipped"] as const) {
      const c = checkCount(name, s.right[key]);
      if (E.isLeft(c)) return c;
    }
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    let normSquared = 0;
    for (const leaf of u.right.leaves) normSquared += sumOfSquares(denseValues(leaf)); // ‖g‖² = Σ Σ gᵢ²
    const { count, skipped } = s.right;
    if (!(normSquared < maxSquaredNorm))
      return E.right([noUpdates(u.right), Object.freeze({ ...s.right, count: count + 1, skipped: skipped + 1, normSquared })] as const);
    const step = inner.update(updates, s.right.inner as S, params, context);
    if (E.isLeft(step)) return step;
    return E.right([
      step.right[0],
      Object.freeze({ kind: "skipLargeUpdates" as const, count: count + 1, skipped, normSquared, inner: step.right[1] }),
    ] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) =>
      E.map((innerState: S) => Object.freeze({ kind: "skipLargeUpdates" as const, count: 0, skipped: 0, normSquared: NaN, inner: innerState }))(
        inner.init(params),
      ),
    update,
  });
};
