/**
 * optax's form of Adam's scaling (ε_root inside the root, the bias correction before it), with Nesterov's look-ahead
 * on the first moment (Dozat 2016) as NAdam has it.
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

/** Options of {@link scaleByNadam}, named and defaulted as optax's `scale_by_adam` with `nesterov=True`. */
export interface ScaleByNadamOptions {
  readonly b1?: number;
  readonly b2?: number;
  /** ε ≥ 0 added to the root (default 1e-8). */
  readonly eps?: number;
  /** ε_root ≥ 0 added under the root (default 0). */
  readonly epsRoot?: number;
  /** Nesterov's look-ahead (default true; false is optax's plain `scale_by_adam`). */
  readonly nesterov?: boolean;
}

/** State of {@link scaleByNadam}: steps taken, the moments m and v (leaf dtypes). */
export interface ScaleByNadamState {
  readonly kind: "scaleByNadam";
  readonly count: number;
  readonly mu: Tree;
  readonly nu: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_adam`):
 *
 *   m ← (1 − β₁)·u + β₁·m,   v ← (1 − β₂)·u² + β₂·v
 *   m̂ = β₁·m / (1 − β₁ᵗ⁺¹) + (1 − β₁)·u / (1 − β₁ᵗ)   (without nesterov: m̂ = m / (1 − β₁ᵗ))
 *   u′ = m̂ / (√(v / (1 − β₂ᵗ) + ε_root) + ε)
 *
 * Unlike {@link scaleByAdam} (PyTorch's form) the root is of the bias-corrected v. Elementwise: chains fuse it.
 * @example
 * const direction = scaleByNadam({ b1: 0.9, b2: 0.999 });
 */
export const scaleByNadam = (o: ScaleByNadamOptions = {}): GradientTransformation<ScaleByNadamState> => {
  const name = "scaleByNadam";
  const read = readOptions(name, o, { b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0), nesterov: optional(aBoolean, true) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2, eps, epsRoot, nesterov } = read.right;
  const hyperparams = { b1, b2, eps, epsRoot, nesterov };
  const problem = momentOptionsProblem({ b1, b2 }, { eps, epsRoot }, { nesterov });
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  const moments = {
    mu: "c1 * u + b1 * mu", // m ← (1 − β₁)·u + β₁·m
    nu: "c2 * (u * u) + b2 * nu", // v ← (1 − β₂)·u² + β₂·v
  };
  return defineElementwise<ScaleByNadamState>({
    name,
    hyperparams,
    state: { kind: "scaleByNadam", count: true, trees: { mu: true, nu: true } },
    bodies: {
      plain: { ...moments, u: "(mu' / bc1) / (sqrt(nu' / bc2 + epsRoot) + eps)" },
      nesterov: { ...moments, u: "(b1 * (mu' / bc1next) + c1 * (u / bc1)) / (sqrt(nu' / bc2 + epsRoot) + eps)" },
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

registerBuilder("scaleByNadam", scaleByNadam);
