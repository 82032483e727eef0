/**
 * RAdam (Liu et al. 2020, rectified Adam), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing } from "../core/elementwise.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { ChainState } from "../core/chain.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Schedule } from "../schedules/schedule.js";
import { scaleByRadam, type ScaleByRadamOptions } from "../transforms/scaleByRadam.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link radam}, named as optax's `radam` (`lr` for `learning_rate`), with its defaults. */
export interface RadamOptions extends ScaleByRadamOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
}

/**
 * optax's `radam`: `chain(scaleByRadam({ b1, b2, eps, epsRoot, threshold, nesterov }), scaleByLr(lr))`, per leaf
 *
 *   m ← (1 − β₁)·g + β₁·m,  v ← (1 − β₂)·g² + β₂·v,  m̂ = m / (1 − β₁ᵗ)
 *   u = −αₜ·r·m̂ / (√(v / (1 − β₂ᵗ) + ε_root) + ε) once ρₜ ≥ threshold, −αₜ·m̂ before   {@link scaleByRadam}
 *
 * fused into one pass per leaf. Defaults β₁ 0.9, β₂ 0.999, ε 1e-8, ε_root 0, threshold 5, no Nesterov. Invalid options are the refusing member's InvalidOption Left, at
 * init and update.
 * @example
 * const opt = radam({ lr: 1e-3 });
 */
export const radam = (o: RadamOptions): GradientTransformation<ChainState> => {
  const read = readOptions("radam", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0), threshold: optional(aNumber, 5), nesterov: optional(aBoolean, false) });
  if (E.isLeft(read)) return failing("radam", {}, read.left);
  const { lr, b1, b2, eps, epsRoot, threshold, nesterov } = read.right;
  return namedChain("radam", scaleByRadam({ b1, b2, eps, epsRoot, threshold, nesterov }), scaleByLr(lr));
};

registerBuilder("radam", radam);
