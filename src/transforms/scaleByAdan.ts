/**
 * Adan's scaling (Xie et al. 2022, Algorithm 1): Nesterov momentum estimated from gradient differences.
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

/** Options of {@link scaleByAdan}, named and defaulted as optax's `scale_by_adan`. */
export interface ScaleByAdanOptions {
  /** β₁: decay of the gradient's moment m (default 0.98). */
  readonly b1?: number;
  /** β₂: decay of the difference's moment v (default 0.92). */
  readonly b2?: number;
  /** β₃: decay of the second moment n (default 0.99). */
  readonly b3?: number;
  /** ε ≥ 0 added to the root (default 1e-8). */
  readonly eps?: number;
  /** ε_root ≥ 0 added under the root (default 1e-8). */
  readonly epsRoot?: number;
}

/**
 * State of {@link scaleByAdan}: steps taken, the moments m, v, n and the previous update `prev` (optax's `g`; leaf
 * dtypes).
 */
export interface ScaleByAdanState {
  readonly kind: "scaleByAdan";
  readonly count: number;
  readonly m: Tree;
  readonly v: Tree;
  readonly n: Tree;
  readonly prev: Tree;
}

/**
 * Per element at step t = 1, 2, … (optax's `scale_by_adan`), with Δ = u − prev (0 at the first step):
 *
 *   m ← (1 − β₁)·u + β₁·m,   v ← (1 − β₂)·Δ + β₂·v,   n ← (1 − β₃)·(u + (1 − β₂)·Δ)² + β₃·n,   prev ← u
 *   u′ = (m / (1 − β₁ᵗ) + (1 − β₂)·v / (1 − β₂ᵗ)) / (√(n / (1 − β₃ᵗ) + ε_root) + ε)
 *
 * Elementwise: chains fuse it. {@link adan} follows it with the decay and the learning rate.
 * @example
 * const direction = scaleByAdan({ b1: 0.98, b2: 0.92, b3: 0.99 });
 */
export const scaleByAdan = (o: ScaleByAdanOptions = {}): GradientTransformation<ScaleByAdanState> => {
  const name = "scaleByAdan";
  const read = readOptions(name, o, {
    b1: optional(aNumber, 0.98), b2: optional(aNumber, 0.92), b3: optional(aNumber, 0.99),
    eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 1e-8),
  });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2, b3, eps, epsRoot } = read.right;
  const hyperparams = { b1, b2, b3, eps, epsRoot };
  const problem = momentOptionsProblem({ b1, b2, b3 }, { eps, epsRoot });
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  const out = "(m' / bc1 + c2 * (v' / bc2)) / (sqrt(n' / bc3 + epsRoot) + eps)";
  return defineElementwise<ScaleByAdanState>({
    name,
    hyperparams,
    state: { kind: "scaleByAdan", count: true, trees: { m: true, v: true, n: true, prev: true } },
    bodies: {
      // Δ = 0 at the first step
      first: { m: "c1 * u + b1 * m", v: "b2 * v", n: "c3 * (u * u) + b3 * n", prev: "u", u: out },
      later: {
        m: "c1 * u + b1 * m", // m ← (1 − β₁)·u + β₁·m
        v: "c2 * (u - prev) + b2 * v", // v ← (1 − β₂)·Δ + β₂·v
        n: "c3 * ((u + c2 * (u - prev)) * (u + c2 * (u - prev))) + b3 * n", // n ← (1 − β₃)·(u + (1 − β₂)·Δ)² + β₃·n
        prev: "u",
        u: out,
      },
    },
    step: (count) => {
      const t = count + 1;
      return E.right({
        body: count === 0 ? "first" : "later",
        scalars: { b1, c1: 1 - b1, b2, c2: 1 - b2, b3, c3: 1 - b3, eps, epsRoot, bc1: 1 - Math.pow(b1, t), bc2: 1 - Math.pow(b2, t), bc3: 1 - Math.pow(b3, t) },
      });
    },
  });
};

registerBuilder("scaleByAdan", scaleByAdan);
