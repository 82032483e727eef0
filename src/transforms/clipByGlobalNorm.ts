/**
 * Gradient clipping by the norm of the whole tree.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, readOptions, required } from "../core/options.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import { finiteNorms } from "./trustRatio.js";

/** State of {@link clipByGlobalNorm}: steps taken, and the global norm ‖u‖ seen at the last step (NaN before the first). */
export interface ClipByGlobalNormState {
  readonly kind: "clipByGlobalNorm";
  readonly count: number;
  readonly norm: number;
}

/**
 * ‖u‖ over every leaf, from the leaf norms nᵢ: M·√(Σ (nᵢ/M)²) with M = max nᵢ, so that float64 leaves with
 * norms near the float64 limits neither overflow nor underflow.
 * @example
 * globalNorm([3, 4]) === 5; globalNorm(leaves.map((leaf) => l2Norm(denseValues(leaf))))
 */
export const globalNorm = (leafNorms: readonly number[]): number => {
  try {
    if (!Array.isArray(leafNorms) || !leafNorms.every((n) => typeof n === "number")) return NaN;
  } catch {
    return NaN; // a revoked Proxy
  }
  const max = leafNorms.reduce((m, n) => Math.max(m, n), 0);
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (const n of leafNorms) s += (n / max) * (n / max);
  return max * Math.sqrt(s); // ‖u‖ = √(Σᵢ nᵢ²)
};

/**
 * u ← u·min(1, c / ‖u‖), where ‖u‖ = √(Σ over every leaf of Σ uᵢ²) is the norm of the whole update tree
 * (optax's `clip_by_global_norm`). Below the threshold the updates are returned as they are (the same leaves);
 * above it every element shrinks, so no element and hence no norm grows. The global norm is known only after
 * the whole tree is read, so it is not fusable. c must be finite and ≥ 0. A NaN or ±Inf in u is a NonFinite
 * Left naming the leaf and the step. The state records the norm of the last step, for monitoring.
 * @example
 * const opt = chain(clipByGlobalNorm(1.0), adam({ lr: 1e-3 }));
 */
export const clipByGlobalNorm = (c: number): GradientTransformation<ClipByGlobalNormState> => {
  const name = "clipByGlobalNorm";
  const o = readOptions(name, { maxNorm: c }, { maxNorm: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { maxNorm } = o.right;
  const hyperparams = { maxNorm };
  if (!(Number.isFinite(maxNorm) && maxNorm >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid max norm: ${maxNorm} (must be finite and >= 0)`));
  const update = (updates: Tree, state: ClipByGlobalNormState): E.Either<OptimizerError, Step<ClipByGlobalNormState>> => {
    const s = stateOfKind<ClipByGlobalNormState>(state, "clipByGlobalNorm");
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    const step = count.right;
    const values = u.right.leaves.map(denseValues);
    const norms: number[] = [];
    for (let k = 0; k < values.length; k++) {
      const n = l2Norm(values[k]!);
      const finite = finiteNorms(u.right.paths[k]!, step, [["update", n]]);
      if (E.isLeft(finite)) return finite;
      norms.push(n);
    }
    const norm = globalNorm(norms);
    const next = Object.freeze({ kind: "clipByGlobalNorm" as const, count: step + 1, norm });
    if (norm <= maxNorm) return E.right([updates, next] as const); // min(1, c/‖u‖) = 1
    const scale = maxNorm / norm;
    const out: Leaf[] = u.right.leaves.map((leaf, k) => {
      const v = values[k]!;
      const clipped = allocate(dtypeOf(leaf), v.length);
      for (let i = 0; i < v.length; i++) clipped[i] = scale * v[i]!; // u ← (c / ‖u‖)·u
      return leafOf(clipped, leaf.shape);
    });
    return E.right([unflatten(u.right.def, out, u.right.paths), next] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) =>
      E.map(() => Object.freeze({ kind: "clipByGlobalNorm" as const, count: 0, norm: NaN }))(flatten(params)),
    update,
  });
};
