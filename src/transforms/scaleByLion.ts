/**
 * Lion's direction: the sign of an interpolation of the gradient and its momentum (Chen et al. 2023).
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

/** Options of {@link scaleByLion}, with optax's defaults. */
export interface ScaleByLionOptions {
  /** β₁ ∈ [0, 1]: the weight of the momentum in the direction (default 0.9). */
  readonly b1?: number;
  /** β₂ ∈ [0, 1]: the decay of the momentum (default 0.99). */
  readonly b2?: number;
}

/** State of {@link scaleByLion}: steps taken, and the momentum m (leaf dtypes). */
export interface ScaleByLionState {
  readonly kind: "scaleByLion";
  readonly count: number;
  readonly mu: Tree;
}

/**
 * Per element, from the old momentum m (optax's `scale_by_lion`):
 *
 *   u′ = sign((1 − β₁)·u + β₁·m),    m ← (1 − β₂)·u + β₂·m
 *
 * so every update element is −1, 0 or +1 before the learning rate. Elementwise: chains fuse it.
 * @example
 * const lionDirection = scaleByLion({ b1: 0.9, b2: 0.99 });
 */
export const scaleByLion = (o: ScaleByLionOptions = {}): GradientTransformation<ScaleByLionState> => {
  const name = "scaleByLion";
  const read = readOptions(name, o, { b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.99) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, b2 } = read.right;
  const hyperparams = { b1, b2 };
  for (const [key, b] of [["b1", b1], ["b2", b2]] as const)
    if (!(typeof b === "number" && b >= 0 && b <= 1))
      return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid ${key}: ${String(b)} (must be in [0, 1])`));
  return defineElementwise<ScaleByLionState>({
    name,
    hyperparams,
    state: { kind: "scaleByLion", count: true, trees: { mu: true } },
    bodies: {
      lion: {
        mu: "c2 * u + b2 * mu", // m ← (1 − β₂)·u + β₂·m
        u: "sign(c1 * u + b1 * mu)", // u′ = sign((1 − β₁)·u + β₁·m), of the old m
      },
    },
    step: () => E.right({ body: "lion", scalars: { b1, c1: 1 - b1, b2, c2: 1 - b2 } }),
  });
};

registerBuilder("scaleByLion", scaleByLion);
