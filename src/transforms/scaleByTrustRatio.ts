/**
 * The seed's layer-wise trust ratio (LARS's local learning rate).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { aNumber, aPair, optional, readOptions } from "../core/options.js";
import { leafNorm } from "../core/norm.js";
import type { GradientTransformation } from "../core/transform.js";
import { finiteNorms, trustNumerator, trustRatio } from "./trustRatio.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link scaleByTrustRatio}. */
export interface TrustRatioOptions {
  /** λ in the denominator ‖g‖ + λ‖p‖ (the weight decay the chain adds; default 0). */
  readonly weightDecay?: number;
  /** `[lo, hi]`: clamp ‖p‖ in the numerator to this range. Omitted, the seed's behaviour (no clamp). */
  readonly scaleClip?: readonly [number, number];
  /** η, the LARS paper's trust coefficient multiplying the ratio (default 1, the seed's). */
  readonly trustCoefficient?: number;
}

/** State of {@link scaleByTrustRatio}: steps taken, and the ratio γ of each leaf at the last step (NaN before the first). */
export interface TrustRatioState {
  readonly kind: "scaleByTrustRatio";
  readonly count: number;
  readonly ratios: { readonly [path: string]: number };
}

// scaleClipProblem lives with the other trust-ratio pieces; lars() imports it from here
export { scaleClipProblem } from "./trustRatio.js";

/**
 * The seed's γ of one leaf from its two norms: n(‖p‖) / (‖g‖ + λ‖p‖), and 1 where ‖p‖ = 0 or ‖g‖ + λ‖p‖ = 0,
 * with n the numerator of {@link trustNumerator} (‖p‖ itself by default). What {@link scaleByTrustRatio} computes,
 * and what a compiled LARS step computes from its kernel's norms.
 * @example
 * const gamma = seedTrustRatio((pNorm) => pNorm, 5e-4, 2, 0.5); // 2 / (0.5 + 5e-4·2)
 */
export const seedTrustRatio = (numerator: (paramNorm: number) => number, weightDecay: number, pNorm: number, gNorm: number): number => {
  if (typeof weightDecay !== "number" || typeof pNorm !== "number" || typeof gNorm !== "number") return NaN;
  const denom = gNorm + weightDecay * pNorm; // ‖g‖ + λ‖p‖
  return trustRatio(numerator, pNorm, denom, denom === 0); // γ = η‖p‖ / (‖g‖ + λ‖p‖), 1 where ‖p‖ or that is 0
};

/**
 * The seed's trust ratio, per leaf: u ← γ·u with
 *
 *   γ = η·‖p‖ / (‖g‖ + λ‖p‖),  and γ = 1 where ‖p‖ = 0 or ‖g‖ + λ‖p‖ = 0,
 *
 * with trust coefficient η = 1 in the seed (the LARS paper's η otherwise),
 * where g is the raw gradient the chain started from (its `UpdateContext`), not the incoming update: placed
 * after momentum, as in `lars()`, γ scales the step but never enters the momentum buffer, exactly as the seed.
 * Trap kept from the seed: with λ > 0 and a zero gradient, γ = ‖p‖/(λ‖p‖) = 1/λ (2000 for λ = 5e-4).
 * Norms are accumulated in float64 ({@link l2Norm}); a NaN or ±Inf in p or g makes them non-finite, and the
 * step is a NonFinite Left naming the leaf and the step (no extra pass over the data).
 * @example
 * const trust = scaleByTrustRatio({ weightDecay: 5e-4 });
 */
export const scaleByTrustRatio = (options: TrustRatioOptions = {}): GradientTransformation<TrustRatioState> => {
  const name = "scaleByTrustRatio";
  const read = readOptions(name, options, { weightDecay: optional(aNumber, 0), scaleClip: optional(aPair, undefined), trustCoefficient: optional(aNumber, 1) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const o = read.right;
  const { weightDecay, scaleClip: clip, trustCoefficient: eta } = o;
  const hyperparams = { weightDecay, scaleClip: clip ? [clip[0], clip[1]] : null, trustCoefficient: eta };
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid weight_decay value: ${weightDecay} (must be finite and >= 0)`));
  const numer = trustNumerator({ trustCoefficient: eta, scaleClip: clip });
  if (E.isLeft(numer)) return failing(name, hyperparams, numer.left);
  const numerator = numer.right;
  return defineElementwise<TrustRatioState>({
    name,
    hyperparams,
    state: { kind: "scaleByTrustRatio", count: true, perLeaf: { ratios: "gamma" }, params: true },
    bodies: { trust: { u: "gamma * u" } }, // u ← γ·u
    step: (step) =>
      E.right({
        body: "trust",
        leaf: (input) => {
          const { path } = input;
          const pNorm = leafNorm(input, "params");
          const gNorm = leafNorm(input, "grads");
          const finite = Number.isFinite(pNorm) && Number.isFinite(gNorm) ? E.right(undefined) : finiteNorms(path, step, [["parameter", pNorm], ["gradient", gNorm]]);
          return E.map(() => ({ gamma: seedTrustRatio(numerator, weightDecay, pNorm, gNorm) }))(finite);
        },
      }),
  });
};

registerBuilder("scaleByTrustRatio", scaleByTrustRatio);
