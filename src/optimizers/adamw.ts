/**
 * PyTorch's AdamW (decoupled weight decay, Loshchilov & Hutter 2019), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { refusingNonFinite } from "../core/finiteInputs.js";
import type { GradientTransformation } from "../core/transform.js";
import { aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { Schedule } from "../schedules/schedule.js";
import { namedChain } from "./namedChain.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByAdam } from "../transforms/scaleByAdam.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link adamw}, named as `torch.optim.AdamW`'s (betas as b1, b2), with its defaults. */
export interface AdamWOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly b1?: number;
  readonly b2?: number;
  readonly eps?: number;
  /** λ, the decoupled decay: p shrinks by αₜ·λ·p each step (default 0.01). */
  readonly weightDecay?: number;
}

/**
 * `torch.optim.AdamW`, per leaf with gradient g and params p, at step t = 1, 2, …:
 *
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
 *   d = (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)                  {@link scaleByAdam}({ β₁, β₂, ε })
 *   d ← d + λp                                                    {@link addWeightDecay}(λ), after the moments
 *   u ← −αₜ·d                                                     {@link scaleByLr}(α)
 *
 * so p + u = p·(1 − αₜλ) − αₜ·(Adam's direction): PyTorch's `p.mul_(1 − lr·λ)` then the Adam step, with the
 * decay scaled by the learning rate. It is `chain(scaleByAdam({ b1, b2, eps }), addWeightDecay(λ), scaleByLr(lr))`
 * (optax's adamw too), fused into one pass per leaf. Invalid options are the refusing member's InvalidOption Left, at init and update ({@link namedChain}).
 * @example
 * const opt = adamw({ lr: 1e-3, weightDecay: 0.05 });
 */
export const adamw = (options: AdamWOptions): GradientTransformation<ChainState> => {
  const o = readOptions("adamw", options, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), weightDecay: optional(aNumber, 0.01) });
  if (E.isLeft(o)) return failing("adamw", {}, o.left);
  const { lr, b1, b2, eps, weightDecay } = o.right;
  return refusingNonFinite(namedChain("adamw", scaleByAdam({ b1, b2, eps }), addWeightDecay(weightDecay), scaleByLr(lr)));
};

registerBuilder("adamw", adamw);
