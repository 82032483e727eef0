/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing } from "../core/elementwise.js";
import { aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { ChainState } from "../core/chain.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByLion } from "../transforms/scaleByLion.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link lion}, named as optax's `lion` (`lr` for `learning_rate`), with its defaults. */
export interface LionOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly b1?: number;
  readonly b2?: number;
  /** λ, decoupled: p shrinks by αₜ·λ·p each step (default 1e-3). */
  readonly weightDecay?: number;
}

/**
 * optax's `lion`, per leaf with gradient g and params p:
 *
 *   d = sign((1 − β₁)·g + β₁·m),  m ← (1 − β₂)·g + β₂·m       {@link scaleByLion}({ β₁, β₂ })
 *   d ← d + λp                                                  {@link addWeightDecay}(λ)
 *   u ← −αₜ·d                                                   {@link scaleByLr}(α)
 *
 * fused into one pass per leaf. Defaults β₁ 0.9, β₂ 0.99, λ 1e-3. Invalid options are the refusing member's
 * InvalidOption Left, at init and update.
 * @example
 * const opt = lion({ lr: 1e-4, weightDecay: 0.1 });
 */
export const lion = (o: LionOptions): GradientTransformation<ChainState> => {
  const read = readOptions("lion", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.99), weightDecay: optional(aNumber, 1e-3) });
  if (E.isLeft(read)) return failing("lion", {}, read.left);
  const { lr, b1, b2, weightDecay } = read.right;
  return namedChain("lion", scaleByLion({ b1, b2 }), addWeightDecay(weightDecay), scaleByLr(lr));
};

registerBuilder("lion", lion);
