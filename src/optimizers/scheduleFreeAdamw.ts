/**
 * Schedule-free AdamW (Defazio et al. 2024; the AlgoPerf 2024 self-tuning track's winner), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { aNumber, aNumberOrSchedule, optional, readOptions } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import { polynomialDecay, type Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByRms } from "../transforms/scaleByRms.js";
import { scheduleFree } from "../transforms/scheduleFree.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link scheduleFreeAdamw}, named as optax's `contrib.schedule_free_adamw` (`lr` for `learning_rate`), with its defaults. */
export interface ScheduleFreeAdamwOptions {
  /** Peak learning rate α (default 0.0025), or a schedule (then without `warmupSteps`). */
  readonly lr?: number | Schedule;
  /** W ≥ 1: a linear warm-up from 0 to α over W steps (default none). */
  readonly warmupSteps?: number;
  /** β₁ of the interpolation (default 0.9). */
  readonly b1?: number;
  /** β₂ of the second moment (default 0.999). */
  readonly b2?: number;
  /** ε outside the root (default 1e-8). */
  readonly eps?: number;
  /** λ, decoupled (default 0). */
  readonly weightDecay?: number;
  /** r of the averaging weights αₘʳ (default 2). */
  readonly weightLrPower?: number;
}

/**
 * optax's `contrib.schedule_free_adamw`: schedule-free averaging over AdamW without its first moment,
 *
 *   chain(scaleByRms({ decay: β₂, eps, epsInSqrt: false, biasCorrection: true }),   u = g / (√ν̂ + ε)
 *         addWeightDecay(λ),                                                       + λy
 *         scaleByLr(αₜ),                                                           × −αₜ: the step of z
 *         scheduleFree({ lr: αₜ, b1: β₁, weightLrPower: r }))                      z′ = z + u; x, y′; u′ = y′ − y
 *
 * with αₜ = α, or with `warmupSteps` W optax's warmup_constant_schedule: α·min(t, W)/W, computed as
 * `polynomialDecay({ init: 0, end: α, power: 1, totalSteps: W })` (optax's own formula). Fused into one pass per
 * leaf. The params follow y; evaluate at {@link scheduleFreeEvalParams}(state, params). With `warmupSteps`, optax
 * computes the warm-up rates in float32 even for float64 params (its step count is int32); larch computes them
 * in float64, so float64 runs differ from optax's by those roundings only (the tests show both). Defaults α
 * 0.0025, β₁ 0.9, β₂ 0.999, ε 1e-8, λ 0, r 2. Invalid options are an InvalidOption Left, at init and update.
 * @example
 * const opt = scheduleFreeAdamw({ lr: 1e-3, warmupSteps: 100 }); // evaluate at scheduleFreeEvalParams(state, params)
 */
export const scheduleFreeAdamw = (o: ScheduleFreeAdamwOptions = {}): GradientTransformation<ChainState> => {
  const name = "scheduleFreeAdamw";
  const read = readOptions(name, o, {
    lr: optional(aNumberOrSchedule, 0.0025),
    warmupSteps: optional(aNumber, undefined),
    b1: optional(aNumber, 0.9),
    b2: optional(aNumber, 0.999),
    eps: optional(aNumber, 1e-8),
    weightDecay: optional(aNumber, 0),
    weightLrPower: optional(aNumber, 2),
  });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { warmupSteps, b1, b2, eps, weightDecay, weightLrPower } = read.right;
  const given = read.right.lr as number | Schedule;
  if (warmupSteps !== undefined && !(Number.isSafeInteger(warmupSteps) && warmupSteps >= 1))
    return failing(name, {}, optimizerError("InvalidOption", `${name}: Invalid warmupSteps: ${showValue(warmupSteps)} (must be a whole number >= 1)`));
  if (warmupSteps !== undefined && typeof given !== "number")
    return failing(name, {}, optimizerError("InvalidOption", `${name}: warmupSteps warms up a number lr; put the warm-up into the schedule instead`));
  const lr = warmupSteps === undefined ? given : polynomialDecay({ init: 0, end: given as number, power: 1, totalSteps: warmupSteps });
  return namedChain(
    name,
    scaleByRms({ decay: b2, eps, epsInSqrt: false, biasCorrection: true }),
    addWeightDecay(weightDecay),
    scaleByLr(lr),
    scheduleFree({ lr, b1, weightLrPower }),
  );
};

registerBuilder("scheduleFreeAdamw", scheduleFreeAdamw);
