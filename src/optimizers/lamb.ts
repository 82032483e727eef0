/**
 * LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning"), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import type { GradientTransformation } from "../core/transform.js";
import { aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { Schedule } from "../schedules/schedule.js";
import { namedChain } from "./namedChain.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByAdam } from "../transforms/scaleByAdam.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByUpdateTrustRatio } from "../transforms/scaleByUpdateTrustRatio.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link lamb}, with optax's defaults. */
export interface LambOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly b1?: number;
  readonly b2?: number;
  /** ε added to the bias-corrected √v (default 1e-6). */
  readonly eps?: number;
  /** λ, decoupled: added to Adam's direction before the trust ratio (default 0). */
  readonly weightDecay?: number;
}

/**
 * LAMB, per leaf with gradient g and params p, at step t = 1, 2, …:
 *
 *   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,
 *   r = (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)                  {@link scaleByAdam}({ β₁, β₂, ε })
 *   r ← r + λp                                                    {@link addWeightDecay}(λ)
 *   r ← (‖p‖ / ‖r‖)·r   (1 where ‖p‖ or ‖r‖ is 0)                 {@link scaleByUpdateTrustRatio}()
 *   u ← −αₜ·r                                                     {@link scaleByLr}(α)
 *
 * i.e. `chain(scaleByAdam({ b1, b2, eps }), addWeightDecay(λ), scaleByUpdateTrustRatio(), scaleByLr(lr))`, the
 * order of optax's `lamb` (φ the identity). The trust ratio needs the whole r, so it runs on its own, between two fused passes.
 * Invalid options are the refusing member's InvalidOption Left, at init and update ({@link namedChain}); NaN or ±Inf is a NonFinite Left from the ratio.
 * @example
 * const opt = lamb({ lr: 1e-3, weightDecay: 0.01 });
 */
export const lamb = (options: LambOptions): GradientTransformation<ChainState> => {
  const o = readOptions("lamb", options, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-6), weightDecay: optional(aNumber, 0) });
  if (E.isLeft(o)) return failing("lamb", {}, o.left);
  const { lr, b1, b2, eps, weightDecay } = o.right;
  return namedChain(
    "lamb",
    scaleByAdam({ b1, b2, eps }),
    addWeightDecay(weightDecay),
    scaleByUpdateTrustRatio(),
    scaleByLr(lr),
  );
};

registerBuilder("lamb", lamb);
