/**
 * AdaBelief (Zhuang et al. 2020), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing } from "../core/elementwise.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { ChainState } from "../core/chain.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Schedule } from "../schedules/schedule.js";
import { scaleByBelief, type ScaleByBeliefOptions } from "../transforms/scaleByBelief.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link adabelief}, named as optax's `adabelief` (`lr` for `learning_rate`), with its defaults. */
export interface AdaBeliefOptions extends ScaleByBeliefOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
}

/**
 * optax's `adabelief`: `chain(scaleByBelief({ b1, b2, eps, epsRoot, nesterov }), scaleByLr(lr))`, per leaf
 *
 *   m ← (1 − β₁)·g + β₁·m,  s ← (1 − β₂)·(g − m)² + β₂·s + ε_root,  u = −αₜ·m̂ / (√ŝ + ε)
 *
 * with Adam's bias corrections (see {@link scaleByBelief}), fused into one pass per leaf. Defaults β₁ 0.9,
 * β₂ 0.999, ε 1e-16, ε_root 1e-16, no Nesterov.
 * @example
 * const opt = adabelief({ lr: 1e-3 });
 */
export const adabelief = (o: AdaBeliefOptions): GradientTransformation<ChainState> => {
  const read = readOptions("adabelief", o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), b2: optional(aNumber, 0.999), eps: optional(aNumber, 1e-16), epsRoot: optional(aNumber, 1e-16), nesterov: optional(aBoolean, false) });
  if (E.isLeft(read)) return failing("adabelief", {}, read.left);
  const { lr, b1, b2, eps, epsRoot, nesterov } = read.right;
  return namedChain("adabelief", scaleByBelief({ b1, b2, eps, epsRoot, nesterov }), scaleByLr(lr));
};

registerBuilder("adabelief", adabelief);
