/**
 * Clipping each leaf's update by its root mean square (optax's `clip_by_block_rms`, Adafactor's update clipping).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing, stateOfKind } from "../core/elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import { sumOfSquares } from "../core/norm.js";
import { aNumber, readOptions, required } from "../core/options.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";

/** State of {@link clipByBlockRms}: nothing but its tag. */
export interface ClipByBlockRmsState {
  readonly kind: "clipByBlockRms";
}

/** One leaf clipped: u / max(1, rms(u) / d), the leaf itself where that divisor is 1. */
const clipLeaf = (leaf: Leaf, threshold: number): Leaf => {
  const v = denseValues(leaf);
  const rms = Math.sqrt(sumOfSquares(v) / v.length); // rms(u) = √(mean u²), in float64
  const denom = Math.max(1, rms / threshold);
  if (denom === 1) return leaf;
  const out = allocate(dtypeOf(leaf), v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / denom; // u / max(1, rms(u)/d)
  return leafOf(out, leaf.shape);
};

/**
 * Per leaf (a "block": a weight vector or matrix), u′ = u / max(1, rms(u) / d) with rms(u) = √(mean u²), so no leaf's
 * update has an rms above d (optax's `clip_by_block_rms`; Adafactor clips at d = 1). The rms of a whole leaf is
 * known only after it is read, so it is not fusable. d must be finite and > 0. A NaN in a leaf makes that leaf NaN,
 * as in optax. Leaves below the threshold are returned as they are.
 * @example
 * const opt = chain(scaleByFactoredRms(), clipByBlockRms(1), scaleByLr(1e-2));
 */
export const clipByBlockRms = (threshold: number): GradientTransformation<ClipByBlockRmsState> => {
  const name = "clipByBlockRms";
  const o = readOptions(name, { threshold }, { threshold: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const d = o.right.threshold;
  const hyperparams = { threshold: d };
  if (!(Number.isFinite(d) && d > 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `${name}: Invalid threshold: ${showValue(d)} (must be finite and > 0)`));
  const state: ClipByBlockRmsState = Object.freeze({ kind: name });
  const update = (updates: Tree, s: ClipByBlockRmsState): E.Either<OptimizerError, Step<ClipByBlockRmsState>> => {
    try {
      const checked = stateOfKind<ClipByBlockRmsState>(s, name);
      if (E.isLeft(checked)) return checked;
      const u = flatten(updates);
      if (E.isLeft(u)) return u;
      return E.right([unflatten(u.right.def, u.right.leaves.map((leaf) => clipLeaf(leaf, d)), u.right.paths), state] as const);
    } catch (e) {
      return E.left(optimizerError("StateMismatch", `${name}: its updates or state cannot be read: reading them threw ${showValue(e)}`));
    }
  };
  return Object.freeze({ name, hyperparams, init: (params: Tree) => E.map(() => state)(flatten(params)), update });
};

registerBuilder("clipByBlockRms", clipByBlockRms);
