/**
 * PyTorch's Adam (L2 weight decay added to the gradient), as a chain.
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

/** Options of {@link adam}, named as `torch.optim.Adam`'s (betas as b1, b2), with its defaults. */
export interface AdamOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly b1?: number;
  readonly b2?: number;
  readonly eps?: number;
  /** λ, added to the gradient before the moments (L2 regularisation; default 0). */
  readonly weightDecay?: number;
}

/**
 * `torch.optim.Adam`, per leaf with gradient g and params p, at step t = 1, 2, …:
 *
 *   d = g + λp                                                    {@link addWeightDecay}(λ)
 *   m ← β₁m + (1 − β₁)d,  v ← β₂v + (1 − β₂)d²,
 *   d ← (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)                  {@link scaleByAdam}({ β₁, β₂, ε })
 *   u ← −αₜ·d                                                     {@link scaleByLr}(α)
 *
 * i.e. `chain(addWeightDecay(λ), scaleByAdam({ b1, b2, eps }), scaleByLr(lr))`, fused into one pass per leaf.
 * For decoupled weight decay use {@link adamw}. Invalid options are the refusing member's InvalidOption Left, at init and update ({@link namedChain}).
 * @example
 * const opt = adam({ lr: 1e-3 });
 */
export const adam = (options: AdamOptions): GradientTransformation<ChainState> => {
  const o = readOptions("adam", options, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-8), weightDecay: optional(aNumber, 0) });
  if (E.isLeft(o)) return failing("adam", {}, o.left);
  const { lr, b1, b2, eps, weightDecay } = o.right;
  return refusingNonFinite(namedChain("adam", addWeightDecay(weightDecay), scaleByAdam({ b1, b2, eps }), scaleByLr(lr)));
};

registerBuilder("adam", adam);
