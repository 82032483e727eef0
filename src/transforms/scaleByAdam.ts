/**
 * Adam's scaling: bias-corrected first and second moment estimates (Kingma & Ba 2015), in PyTorch's form.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link scaleByAdam}, with PyTorch's defaults. */
export interface ScaleByAdamOptions {
  /** β₁ ∈ [0, 1), decay of the first moment (default 0.9). */
  readonly b1?: number;
  /** β₂ ∈ [0, 1), decay of the second moment (default 0.999). */
  readonly b2?: number;
  /** ε ≥ 0 added to the bias-corrected √v (default 1e-8). */
  readonly eps?: number;
}

/** State of {@link scaleByAdam}: steps taken, the first moments m and second moments v (leaf dtypes). */
export interface ScaleByAdamState {
  readonly kind: "scaleByAdam";
  readonly count: number;
  readonly mu: Tree;
  readonly nu: Tree;
}

/**
 * Why these β₁, β₂, ε are invalid (PyTorch's checks, plus finiteness: 0 ≤ β₁, β₂ < 1, 0 ≤ ε < ∞), or undefined.
 * @example
 * invalidAdamOptions(0.9, 0.999, 1e-8) === undefined; invalidAdamOptions(1, 0.999, 1e-8) // "Invalid beta parameter at index 0: ..."
 */
export const invalidAdamOptions = (b1: number, b2: number, eps: number): string | undefined => {
  if (!(Number.isFinite(eps) && eps >= 0)) return `Invalid epsilon value: ${showValue(eps)} (must be finite and >= 0)`;
  if (!(typeof b1 === "number" && b1 >= 0 && b1 < 1)) return `Invalid beta parameter at index 0: ${showValue(b1)} (must be in [0, 1))`;
  if (!(typeof b2 === "number" && b2 >= 0 && b2 < 1)) return `Invalid beta parameter at index 1: ${showValue(b2)} (must be in [0, 1))`;
  return undefined;
};

/**
 * Adam's direction, at step t = 1, 2, … (counted in the state), per element:
 *
 *   m ← β₁·m + (1 − β₁)·u,   v ← β₂·v + (1 − β₂)·u²,
 *   u ← (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
 *
 * PyTorch's form (ε added after the bias correction of √v), with m and v stored in the leaf's dtype as PyTorch
 * stores `exp_avg` and `exp_avg_sq`. Elementwise: chains fuse it. Follow it with {@link scaleByLr} for Adam.
 * @example
 * const adamDirection = scaleByAdam({ b1: 0.9, b2: 0.999, eps: 1e-8 });
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): GradientTransformation<ScaleByAdamState> => {
  const name = "scaleByAdam";
  const o = readOptions(name, options, { b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { b1, b2, eps } = o.right;
  const hyperparams = { b1, b2, eps };
  const problem = invalidAdamOptions(b1, b2, eps);
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  return defineElementwise<ScaleByAdamState>({
    name,
    hyperparams,
    state: { kind: "scaleByAdam", count: true, trees: { mu: true, nu: true } },
    bodies: {
      adam: {
        mu: "b1 * mu + c1 * u", // m ← β₁·m + (1 − β₁)·u
        nu: "b2 * nu + c2 * u * u", // v ← β₂·v + (1 − β₂)·u²
        u: "mu' / bc1 / (sqrt(nu') / bc2 + eps)", // u ← (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
      },
    },
    step: (count) => {
      const t = count + 1;
      return E.right({ body: "adam", scalars: { b1, c1, b2, c2, eps, bc1: 1 - Math.pow(b1, t), bc2: Math.sqrt(1 - Math.pow(b2, t)) } });
    },
  });
};

registerBuilder("scaleByAdam", scaleByAdam);
