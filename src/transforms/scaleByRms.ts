/**
 * Scaling by the root of a running mean of squared updates (RMSProp's denominator), as optax's `scale_by_rms`.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { aBoolean, aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { momentOptionsProblem } from "./momentOptions.js";

/** Options of {@link scaleByRms}, named and defaulted as optax's `scale_by_rms` (its `initial_scale` is 0 here). */
export interface ScaleByRmsOptions {
  /** ρ, the decay of the running mean of u², in [0, 1) (default 0.9). */
  readonly decay?: number;
  /** ε ≥ 0 (default 1e-8). */
  readonly eps?: number;
  /** ε under the root, 1/√(ν̂ + ε) (default true), or outside it, 1/(√ν̂ + ε). */
  readonly epsInSqrt?: boolean;
  /** Divide ν by 1 − ρᵗ (default false): with ε outside the root this is Adam's denominator with β₁ = 0. */
  readonly biasCorrection?: boolean;
}

/** State of {@link scaleByRms}: steps taken, and ν (leaf dtypes). */
export interface ScaleByRmsState {
  readonly kind: "scaleByRms";
  readonly count: number;
  readonly nu: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_rms` with `initial_scale` 0):
 *
 *   ν ← (1 − ρ)·u² + ρ·ν,   ν̂ = ν / (1 − ρᵗ) with biasCorrection, else ν
 *   u′ = u / √(ν̂ + ε)   (epsInSqrt, the default),   u′ = u / (√ν̂ + ε)   (otherwise)
 *
 * Schedule-free AdamW's base direction is `scaleByRms({ decay: β₂, eps, epsInSqrt: false, biasCorrection: true })`.
 * Elementwise: chains fuse it. Invalid options are an InvalidOption Left, at init and update.
 * @example
 * const rmsprop = chain(scaleByRms({ decay: 0.99 }), scaleByLr(1e-3));
 */
export const scaleByRms = (o: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> => {
  const name = "scaleByRms";
  const read = readOptions(name, o, { decay: optional(aNumber, 0.9), eps: optional(aNumber, 1e-8), epsInSqrt: optional(aBoolean, true), biasCorrection: optional(aBoolean, false) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { decay, eps, epsInSqrt, biasCorrection } = read.right;
  const hyperparams = { decay, eps, epsInSqrt, biasCorrection };
  const problem = momentOptionsProblem({ decay }, { eps }, { epsInSqrt, biasCorrection });
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  const nu = "c * (u * u) + d * nu"; // ν ← (1 − ρ)·u² + ρ·ν
  return defineElementwise<ScaleByRmsState>({
    name,
    hyperparams,
    state: { kind: "scaleByRms", count: true, trees: { nu: true } },
    bodies: {
      inside: { nu, u: "(1 / sqrt(nu' / bc + eps)) * u" }, // optax: rsqrt(ν̂ + ε)·u
      outside: { nu, u: "(1 / (sqrt(nu' / bc) + eps)) * u" }, // optax: (1 / (√ν̂ + ε))·u
    },
    step: (count) =>
      E.right({ body: epsInSqrt ? "inside" : "outside", scalars: { c: 1 - decay, d: decay, eps, bc: biasCorrection ? 1 - Math.pow(decay, count + 1) : 1 } }),
  });
};

registerBuilder("scaleByRms", scaleByRms);
