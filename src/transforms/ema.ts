/**
 * An exponential moving average of the updates (optax's `ema`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { aBoolean, aNumber, optional, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";

/** State of {@link ema}: steps taken, and the average a (leaf dtypes). */
export interface EmaState {
  readonly kind: "ema";
  readonly count: number;
  readonly ema: Tree;
}

/**
 * Replaces the updates by their moving average, at step t = 1, 2, … (optax's `ema`):
 *
 *   a ← (1 − d)·u + d·a,    u′ = a / (1 − dᵗ) with `debias` (default), u′ = a without
 *
 * It averages the updates it receives, not the params: put it before {@link scaleByLr} for a momentum-like direction.
 * d must be in [0, 1]. Elementwise: chains fuse it.
 * @example
 * const opt = chain(ema({ decay: 0.9 }), scaleByLr(0.1));
 */
export const ema = (options: { readonly decay: number; readonly debias?: boolean }): GradientTransformation<EmaState> => {
  const name = "ema";
  const read = readOptions(name, options, { decay: required(aNumber), debias: optional(aBoolean, true) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { decay, debias } = read.right;
  const hyperparams = { decay, debias };
  if (!(decay >= 0 && decay <= 1))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid decay: ${showValue(decay)} (must be in [0, 1])`));
  return defineElementwise<EmaState>({
    name,
    hyperparams,
    state: { kind: "ema", count: true, trees: { ema: true } },
    bodies: {
      debiased: { ema: "c * u + d * ema", u: "ema' / bc" }, // a ← (1 − d)·u + d·a; u′ = a / (1 − dᵗ)
      biased: { ema: "c * u + d * ema", u: "ema'" },
    },
    step: (count) => E.right({ body: debias ? "debiased" : "biased", scalars: { c: 1 - decay, d: decay, bc: 1 - Math.pow(decay, count + 1) } }),
  });
};

registerBuilder("ema", ema);
