/**
 * AdEMAMix's scaling (Pagliardini, Ablin & Grangier 2024): Adam with a second, slow moment mixed into the first.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { momentOptionsProblem } from "./momentOptions.js";

/** Options of {@link scaleByAdemamix}, named and defaulted as optax's `contrib.ademamix` (constant β₃ and α). */
export interface ScaleByAdemamixOptions {
  readonly b1?: number;
  readonly b2?: number;
  /** β₃: decay of the slow moment (default 0.9999). */
  readonly b3?: number;
  /** α: the slow moment's weight (default 5). */
  readonly alpha?: number;
  /** ε ≥ 0 added to the root (default 1e-8). */
  readonly eps?: number;
  /** ε_root ≥ 0 added under the root (default 0). */
  readonly epsRoot?: number;
}

/** State of {@link scaleByAdemamix}: steps taken, the fast and slow first moments m1, m2 and the second moment nu. */
export interface ScaleByAdemamixState {
  readonly kind: "scaleByAdemamix";
  readonly count: number;
  readonly m1: Tree;
  readonly m2: Tree;
  readonly nu: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_ademamix`):
 *
 *   m₁ ← (1 − β₁)·u + β₁·m₁,   m₂ ← (1 − β₃)·u + β₃·m₂,   ν ← (1 − β₂)·u² + β₂·ν
 *   u′ = (m₁ / (1 − β₁ᵗ) + α·m₂) / (√(ν / (1 − β₂ᵗ) + ε_root) + ε)      (m₂ is not bias-corrected)
 *
 * Elementwise: chains fuse it. {@link ademamix} follows it with the decay and the learning rate.
 * @example
 * const direction = scaleByAdemamix({ b3: 0.9999, alpha: 5 });
 */
export const scaleByAdemamix = (o: ScaleByAdemamixOptions = {}): GradientTransformation<ScaleByAdemamixState> => {
  const name = "scaleByAdemamix";
  const read = readOptions(name, o, { b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), b3: optional(aNumber, 0.9999), alpha: optional(aNumber, 5), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2, b3, alpha, eps, epsRoot } = read.right;
  const hyperparams = { b1, b2, b3, alpha, eps, epsRoot };
  const problem =
    momentOptionsProblem({ b1, b2, b3 }, { eps, epsRoot }) ??
    (typeof alpha === "number" && Number.isFinite(alpha) ? undefined : `Invalid alpha: ${String(alpha)} (must be finite)`);
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  return defineElementwise<ScaleByAdemamixState>({
    name,
    hyperparams,
    state: { kind: "scaleByAdemamix", count: true, trees: { m1: true, m2: true, nu: true } },
    bodies: {
      ademamix: {
        m1: "c1 * u + b1 * m1", // m₁ ← (1 − β₁)·u + β₁·m₁
        m2: "c3 * u + b3 * m2", // m₂ ← (1 − β₃)·u + β₃·m₂
        nu: "c2 * (u * u) + b2 * nu", // ν ← (1 − β₂)·u² + β₂·ν
        u: "(m1' / bc1 + alpha * m2') / (sqrt(nu' / bc2 + epsRoot) + eps)",
      },
    },
    step: (count) => {
      const t = count + 1;
      return E.right({
        body: "ademamix",
        scalars: { b1, c1: 1 - b1, b2, c2: 1 - b2, b3, c3: 1 - b3, alpha, eps, epsRoot, bc1: 1 - Math.pow(b1, t), bc2: 1 - Math.pow(b2, t) },
      });
    },
  });
};

registerBuilder("scaleByAdemamix", scaleByAdemamix);
