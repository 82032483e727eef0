/**
 * The trust ratio of the incoming update (optax's `scale_by_trust_ratio`, as in LAMB and optax's LARS).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, optional, readOptions } from "../core/options.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, flattenLike, frozenScalars, unflatten, type Tree } from "../core/tree.js";
import { finiteNorms, scaleKernel, trustNumerator, trustRatio } from "./trustRatio.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link scaleByUpdateTrustRatio}. */
export interface UpdateTrustRatioOptions {
  /** η, multiplying the ratio (default 1, LAMB's; optax's LARS uses 0.001). */
  readonly trustCoefficient?: number;
  /** ε added to ‖u‖ in the denominator (default 0). */
  readonly eps?: number;
}

/** State of {@link scaleByUpdateTrustRatio}: steps taken, and the ratio γ of each leaf at the last step (NaN before the first). */
export interface UpdateTrustRatioState {
  readonly kind: "scaleByUpdateTrustRatio";
  readonly count: number;
  readonly ratios: { readonly [path: string]: number };
}

/**
 * Per leaf, u ← γ·u with the ratio of the incoming update u (not of the raw gradient, unlike {@link scaleByTrustRatio}):
 *
 *   γ = η·‖p‖ / (‖u‖ + ε),  and γ = 1 where ‖p‖ = 0 or ‖u‖ = 0,
 *
 * optax's `scale_by_trust_ratio`. Its ratio needs the whole update before any of it can be scaled, so it is not
 * fusable: it materialises, and a chain runs it on its own, between the fused runs of its other members. Norms are accumulated in float64; a NaN
 * or ±Inf in p or u is a NonFinite Left naming the leaf and the step (read off the norms, no extra pass).
 * @example
 * const lambRatio = scaleByUpdateTrustRatio();
 * const optaxLarsRatio = scaleByUpdateTrustRatio({ trustCoefficient: 0.001 });
 */
export const scaleByUpdateTrustRatio = (options: UpdateTrustRatioOptions = {}): GradientTransformation<UpdateTrustRatioState> => {
  const name = "scaleByUpdateTrustRatio";
  const o = readOptions(name, options, { trustCoefficient: optional(aNumber, 1), eps: optional(aNumber, 0) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { trustCoefficient: eta, eps } = o.right;
  const hyperparams = { trustCoefficient: eta, eps };
  const numer = trustNumerator({ trustCoefficient: eta });
  if (E.isLeft(numer)) return failing(name, hyperparams, numer.left);
  if (!(Number.isFinite(eps) && eps >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid eps: ${eps} (must be finite and >= 0)`));
  const numerator = numer.right;
  const update = (updates: Tree, state: UpdateTrustRatioState, params?: Tree): E.Either<OptimizerError, Step<UpdateTrustRatioState>> => {
    const s = stateOfKind<UpdateTrustRatioState>(state, "scaleByUpdateTrustRatio");
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    if (params === undefined)
      return E.left(optimizerError("MissingParams", `${name} needs the params: call update(updates, state, params)`));
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    const p = flattenLike(u.right, params, ["updates", "params"]);
    if (E.isLeft(p)) return p;
    const step = count.right;
    const ratios: number[] = []; // γ of leaf k, in leaf order
    const out: Leaf[] = [];
    for (let k = 0; k < u.right.leaves.length; k++) {
      const leaf = u.right.leaves[k]!;
      const path = u.right.paths[k]!;
      const values = denseValues(leaf);
      const pNorm = l2Norm(denseValues(p.right.leaves[k]!));
      const uNorm = l2Norm(values);
      const finite = finiteNorms(path, step, [["parameter", pNorm], ["update", uNorm]]);
      if (E.isLeft(finite)) return finite;
      const gamma = trustRatio(numerator, pNorm, uNorm + eps, uNorm === 0); // γ = η‖p‖ / (‖u‖ + ε), 1 where ‖p‖ or ‖u‖ is 0
      ratios.push(gamma);
      const kernel = scaleKernel(gamma);
      if (kernel === null) {
        out.push(leaf);
        continue;
      }
      const scaled = allocate(dtypeOf(leaf), values.length);
      scaled.set(values);
      kernel(scaled, 0, scaled.length); // u ← γ·u
      out.push(leafOf(scaled, leaf.shape));
    }
    return E.right([
      unflatten(u.right.def, out, u.right.paths),
      Object.freeze({ kind: "scaleByUpdateTrustRatio" as const, count: step + 1, ratios: frozenScalars(u.right.paths, ratios) }),
    ] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) =>
      E.map((flat: { paths: readonly string[] }) =>
        Object.freeze({
          kind: "scaleByUpdateTrustRatio" as const,
          count: 0,
          ratios: frozenScalars(flat.paths, flat.paths.map(() => NaN)),
        }),
      )(flatten(params)),
    update,
  });
};

registerBuilder("scaleByUpdateTrustRatio", scaleByUpdateTrustRatio);
