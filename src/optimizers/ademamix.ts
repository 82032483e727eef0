/**
 * AdEMAMix (Pagliardini, Ablin & Grangier 2024), as a chain.
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
import { scaleByAdemamix, type ScaleByAdemamixOptions } from "../transforms/scaleByAdemamix.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link ademamix}, named as optax's `contrib.ademamix` (`lr` for `learning_rate`), with its defaults. */
export interface AdemamixOptions extends ScaleByAdemamixOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  /** λ, decoupled: p shrinks by αₜ·λ·p each step (default 0). */
  readonly weightDecay?: number;
}

/**
 * optax's `contrib.ademamix`: `chain(scaleByAdemamix({ b1, b2, b3, alpha, eps, epsRoot }), addWeightDecay(weightDecay), scaleByLr(lr))`, per leaf
 *
 *   m₁, m₂: fast and slow moments of g, ν of g²   {@link scaleByAdemamix}
 *   u = −αₜ·((m̂₁ + α·m₂) / (√(ν̂ + ε_root) + ε) + λp)
 *
 * fused into one pass per leaf. Defaults β₁ 0.9, β₂ 0.999, β₃ 0.9999, α 5, ε 1e-8, ε_root 0, λ 0 (constant β₃ and α). Invalid options are the refusing member's InvalidOption Left, at
 * init and update.
 * @example
 * const opt = ademamix({ lr: 1e-3 });
 */
export const ademamix = (o: AdemamixOptions): GradientTransformation<ChainState> => {
  const read = readOptions("ademamix", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), b3: optional(aNumber, 0.9999), alpha: optional(aNumber, 5), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 0), weightDecay: optional(aNumber, 0) });
  if (E.isLeft(read)) return failing("ademamix", {}, read.left);
  const { lr, b1, b2, b3, alpha, eps, epsRoot, weightDecay } = read.right;
  return namedChain("ademamix", scaleByAdemamix({ b1, b2, b3, alpha, eps, epsRoot }), addWeightDecay(weightDecay), scaleByLr(lr));
};

registerBuilder("ademamix", ademamix);
