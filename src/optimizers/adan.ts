/**
 * Adan (Xie et al. 2022, adaptive Nesterov momentum), as a chain.
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
import { scaleByAdan, type ScaleByAdanOptions } from "../transforms/scaleByAdan.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link adan}, named as optax's `adan` (`lr` for `learning_rate`), with its defaults. */
export interface AdanOptions extends ScaleByAdanOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  /** λ, decoupled: p shrinks by αₜ·λ·p each step (default 0). */
  readonly weightDecay?: number;
}

/**
 * optax's `adan`: `chain(scaleByAdan({ b1, b2, b3, eps, epsRoot }), addWeightDecay(weightDecay), scaleByLr(lr))`, per leaf
 *
 *   m, v, n: moments of g, of Δ = g − g_prev and of (g + (1 − β₂)Δ)²   {@link scaleByAdan}
 *   u = −αₜ·((m̂ + (1 − β₂)·v̂) / (√(n̂ + ε_root) + ε) + λp)
 *
 * fused into one pass per leaf. Defaults β₁ 0.98, β₂ 0.92, β₃ 0.99, ε 1e-8, ε_root 1e-8, λ 0. Invalid options are the refusing member's InvalidOption Left, at
 * init and update.
 * @example
 * const opt = adan({ lr: 1e-3 });
 */
export const adan = (o: AdanOptions): GradientTransformation<ChainState> => {
  const read = readOptions("adan", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.98), b2: optional(aNumber, 0.92), b3: optional(aNumber, 0.99), eps: optional(aNumber, 1e-8), epsRoot: optional(aNumber, 1e-8), weightDecay: optional(aNumber, 0) });
  if (E.isLeft(read)) return failing("adan", {}, read.left);
  const { lr, b1, b2, b3, eps, epsRoot, weightDecay } = read.right;
  return namedChain("adan", scaleByAdan({ b1, b2, b3, eps, epsRoot }), addWeightDecay(weightDecay), scaleByLr(lr));
};

registerBuilder("adan", adan);
