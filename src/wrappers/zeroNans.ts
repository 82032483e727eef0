/**
 * Replacing NaN update elements by 0, and recording which leaves had one (optax's `zero_nans`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { stateOfKind } from "../core/elementwise.js";
import type { OptimizerError } from "../core/errors.js";
import { allocate, denseValues, dtypeOf, leafOf } from "../core/leaf.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, frozenScalars, unflatten, type Tree } from "../core/tree.js";

/** State of {@link zeroNans}: per leaf path, whether the last step's update held a NaN (false at init). */
export interface ZeroNansState {
  readonly kind: "zeroNans";
  readonly foundNan: { readonly [path: string]: boolean };
}

/**
 * u′ = 0 where u is NaN, u elsewhere (±Inf is kept), and per leaf a record of whether it held a NaN (optax's
 * `zero_nans`, whose `found_nan` this is). Not fusable: the record is of the whole leaf. A leaf without NaN is passed
 * through as it is. Place it first to clean gradients: `chain(zeroNans(), adam(o))`.
 * @example
 * const opt = chain(zeroNans(), sgd({ lr: 0.1, momentum: 0.9 }));
 */
export const zeroNans = (): GradientTransformation<ZeroNansState> => {
  const update = (updates: Tree, state: ZeroNansState): E.Either<OptimizerError, Step<ZeroNansState>> => {
    const s = stateOfKind<ZeroNansState>(state, "zeroNans");
    if (E.isLeft(s)) return s;
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    const found: boolean[] = [];
    const leaves = u.right.leaves.map((leaf) => {
      const v = denseValues(leaf);
      let nan = false;
      for (let i = 0; i < v.length && !nan; i++) nan = Number.isNaN(v[i]!);
      found.push(nan);
      if (!nan) return leaf;
      const out = allocate(dtypeOf(leaf), v.length);
      for (let i = 0; i < v.length; i++) out[i] = Number.isNaN(v[i]!) ? 0 : v[i]!; // u′ = 0 where u is NaN
      return leafOf(out, leaf.shape);
    });
    const next = Object.freeze({ kind: "zeroNans" as const, foundNan: frozenScalars(u.right.paths, found) });
    return E.right([unflatten(u.right.def, leaves, u.right.paths), next] as const);
  };
  return Object.freeze({
    name: "zeroNans",
    hyperparams: {},
    init: (params: Tree) =>
      E.map((flat: { readonly paths: readonly string[] }) =>
        Object.freeze({ kind: "zeroNans" as const, foundNan: frozenScalars(flat.paths, flat.paths.map(() => false)) }),
      )(flatten(params)),
    update,
  });
};
