/**
 * NAdamW (Dozat 2016's Nesterov Adam with decoupled weight decay), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing } from "../core/elementwise.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { ChainState } from "../core/chain.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByNadam, type ScaleByNadamOptions } from "../transforms/scaleByNadam.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link nadamw}, named as optax's `nadamw` (`lr` for `learning_rate`), with its defaults. */
export interface NadamwOptions extends ScaleByNadamOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  /** λ, decoupled: p shrinks by αₜ·λ·p each step (default 1e-4). */
  readonly weightDecay?: number;
}

/**
 * optax's `nadamw`: `chain(scaleByNadam({ b1, b2, eps, epsRoot, nesterov }), addWeightDecay(weightDecay), scaleByLr(lr))`, per leaf
 *
 *   m ← (1 − β₁)·g + β₁·m,  v ← (1 − β₂)·g² + β₂·v,
 *   d = (β₁·m / (1 − β₁ᵗ⁺¹) + (1 − β₁)·g / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ) + ε_root) + ε)   {@link scaleByNadam}
 *   u = −αₜ·(d + λp)
 *
 * fused into one pass per leaf. Defaults β₁ 0.9, β₂ 0.999, ε 1e-8, ε_root 0, λ 1e-4, nesterov true (false: optax's adamw). Invalid options are the refusing member's InvalidOption Left, at
 * init and update.
 * @example
 * const opt = nadamw({ lr: 1e-3 });
 */
export const nadamw = (o: NadamwOptions): GradientTransformation<ChainState> => {
  const read = readOptions("nadamw", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0), weightDecay: optional(aNumber, 1e-4), nesterov: optional(aBoolean, true) });
  if (E.isLeft(read)) return failing("nadamw", {}, read.left);
  const { lr, b1, b2, eps, epsRoot, weightDecay, nesterov } = read.right;
  return namedChain("nadamw", scaleByNadam({ b1, b2, eps, epsRoot, nesterov }), addWeightDecay(weightDecay), scaleByLr(lr));
};

registerBuilder("nadamw", nadamw);
