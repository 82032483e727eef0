/**
 * Rectified Adam's scaling (Liu et al. 2020): Adam once the variance of its adaptive rate is tractable, momentum before.
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

/** Options of {@link scaleByRadam}, named and defaulted as optax's `scale_by_radam`. */
export interface ScaleByRadamOptions {
  readonly b1?: number;
  readonly b2?: number;
  /** ε ≥ 0 added to the root (default 1e-8). */
  readonly eps?: number;
  /** ε_root ≥ 0 added under the root (default 0). */
  readonly epsRoot?: number;
  /** ρ at and above which the rectified Adam step is taken (default 5). */
  readonly threshold?: number;
  /** Nesterov's look-ahead on the first moment (default false). */
  readonly nesterov?: boolean;
}

/** State of {@link scaleByRadam}: steps taken, the moments m and v (leaf dtypes). */
export interface ScaleByRadamState {
  readonly kind: "scaleByRadam";
  readonly count: number;
  readonly mu: Tree;
  readonly nu: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_radam`), with ρ∞ = 2/(1 − β₂) − 1 and
 * ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ):
 *
 *   m ← (1 − β₁)·u + β₁·m,   v ← (1 − β₂)·u² + β₂·v,   m̂ = m / (1 − β₁ᵗ) (Nesterov's form as {@link scaleByNadam})
 *   ρₜ ≥ threshold:  u′ = r·m̂ / (√(v / (1 − β₂ᵗ) + ε_root) + ε),   r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
 *   else:            u′ = m̂
 *
 * Elementwise: chains fuse it (the branch is chosen per step). Follow it with {@link scaleByLr} for RAdam.
 * @example
 * const direction = scaleByRadam({ threshold: 5 });
 */
export const scaleByRadam = (o: ScaleByRadamOptions = {}): GradientTransformation<ScaleByRadamState> => {
  const name = "scaleByRadam";
  const read = readOptions(name, o, { b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0), threshold: optional(aNumber, 5), nesterov: optional(aBoolean, false) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2, eps, epsRoot, threshold, nesterov } = read.right;
  const hyperparams = { b1, b2, eps, epsRoot, threshold, nesterov };
  const problem =
    momentOptionsProblem({ b1, b2 }, { eps, epsRoot }, { nesterov }) ??
    (typeof threshold === "number" && Number.isFinite(threshold) ? undefined : `Invalid threshold: ${String(threshold)} (must be finite)`);
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  const rhoInf = 2 / (1 - b2) - 1;
  const mHat = nesterov ? "(b1 * (mu' / bc1next) + c1 * (u / bc1))" : "(mu' / bc1)";
  const moments = {
    mu: "c1 * u + b1 * mu", // m ← (1 − β₁)·u + β₁·m
    nu: "c2 * (u * u) + b2 * nu", // v ← (1 − β₂)·u² + β₂·v
  };
  return defineElementwise<ScaleByRadamState>({
    name,
    hyperparams,
    state: { kind: "scaleByRadam", count: true, trees: { mu: true, nu: true } },
    bodies: {
      rectified: { ...moments, u: `r * ${mHat} / (sqrt(nu' / bc2 + epsRoot) + eps)` },
      momentum: { ...moments, u: mHat },
    },
    step: (count) => {
      const t = count + 1;
      const b2t = Math.pow(b2, t);
      const rho = rhoInf - (2 * t * b2t) / (1 - b2t); // ρₜ
      const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      return E.right({
        body: rho >= threshold ? "rectified" : "momentum",
        scalars: { b1, c1: 1 - b1, b2, c2: 1 - b2, eps, epsRoot, r, bc1: 1 - Math.pow(b1, t), bc1next: 1 - Math.pow(b1, t + 1), bc2: 1 - b2t },
      });
    },
  });
};

registerBuilder("scaleByRadam", scaleByRadam);
