/**
 * AdaBelief's direction: Adam's, with the second moment of the gradient's surprise g − m (Zhuang et al. 2020).
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

/** Options of {@link scaleByBelief}, named and defaulted as optax's `scale_by_belief`. */
export interface ScaleByBeliefOptions {
  /** β₁ ∈ [0, 1) (default 0.9). */
  readonly b1?: number;
  /** β₂ ∈ [0, 1) (default 0.999). */
  readonly b2?: number;
  /** ε ≥ 0 added to the root (default 1e-16). */
  readonly eps?: number;
  /** ε_root ≥ 0 added to s each step (default 1e-16). */
  readonly epsRoot?: number;
  /** Nesterov's look-ahead on the first moment (default false). */
  readonly nesterov?: boolean;
}

/** State of {@link scaleByBelief}: steps taken, the first moment m and the belief s (leaf dtypes). */
export interface ScaleByBeliefState {
  readonly kind: "scaleByBelief";
  readonly count: number;
  readonly mu: Tree;
  readonly nu: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_belief`):
 *
 *   m ← (1 − β₁)·u + β₁·m,   s ← (1 − β₂)·(u − m)² + β₂·s + ε_root     (m the new m)
 *   m̂ = m / (1 − β₁ᵗ)   (nesterov: m̂ = β₁·m / (1 − β₁ᵗ⁺¹) + (1 − β₁)·u / (1 − β₁ᵗ))
 *   u′ = m̂ / (√(s / (1 − β₂ᵗ)) + ε)
 *
 * Elementwise: chains fuse it. Follow it with {@link scaleByLr} for AdaBelief ({@link adabelief}).
 * @example
 * const belief = scaleByBelief({ b1: 0.9, b2: 0.999 });
 */
export const scaleByBelief = (o: ScaleByBeliefOptions = {}): GradientTransformation<ScaleByBeliefState> => {
  const name = "scaleByBelief";
  const read = readOptions(name, o, {
    b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-16),
    epsRoot: optional(aNumber, 1e-16), nesterov: optional(aBoolean, false),
  });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2, eps, epsRoot, nesterov } = read.right;
  const hyperparams = { b1, b2, eps, epsRoot, nesterov };
  const refuse = (what: string) => failing<ScaleByBeliefState>(name, hyperparams, optimizerError("InvalidOption", what));
  if (!(typeof b1 === "number" && b1 >= 0 && b1 < 1)) return refuse(`Invalid b1: ${String(b1)} (must be in [0, 1))`);
  if (!(typeof b2 === "number" && b2 >= 0 && b2 < 1)) return refuse(`Invalid b2: ${String(b2)} (must be in [0, 1))`);
  if (!(Number.isFinite(eps) && eps >= 0)) return refuse(`Invalid eps: ${String(eps)} (must be finite and >= 0)`);
  if (!(Number.isFinite(epsRoot) && epsRoot >= 0)) return refuse(`Invalid epsRoot: ${String(epsRoot)} (must be finite and >= 0)`);
  if (typeof nesterov !== "boolean") return refuse(`Invalid nesterov: ${String(nesterov)} (must be true or false)`);
  const moments = {
    mu: "c1 * u + b1 * mu", // m ← (1 − β₁)·u + β₁·m
    nu: "c2 * ((u - mu') * (u - mu')) + b2 * nu + epsRoot", // s ← (1 − β₂)·(u − m)² + β₂·s + ε_root
  };
  return defineElementwise<ScaleByBeliefState>({
    name,
    hyperparams,
    state: { kind: "scaleByBelief", count: true, trees: { mu: true, nu: true } },
    bodies: {
      plain: { ...moments, u: "(mu' / bc1) / (sqrt(nu' / bc2) + eps)" }, // m̂ / (√ŝ + ε)
      nesterov: { ...moments, u: "(b1 * (mu' / bc1next) + c1 * (u / bc1)) / (sqrt(nu' / bc2) + eps)" },
    },
    step: (count) => {
      const t = count + 1;
      return E.right({
        body: nesterov ? "nesterov" : "plain",
        scalars: { b1, c1: 1 - b1, b2, c2: 1 - b2, eps, epsRoot, bc1: 1 - Math.pow(b1, t), bc1next: 1 - Math.pow(b1, t + 1), bc2: 1 - Math.pow(b2, t) },
      });
    },
  });
};

registerBuilder("scaleByBelief", scaleByBelief);
