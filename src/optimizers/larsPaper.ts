/**
 * LARS as in the paper: Algorithm 1 of You, Gitman & Ginsburg 2017, "Large Batch Training of Convolutional Networks".
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
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByTrustRatio } from "../transforms/scaleByTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link larsPaper}, named after the paper's symbols. */
export interface LarsPaperOptions {
  /** The global learning rate αₜ (γ₀(1 − t/T)² in the paper: see {@link polynomialDecay}). */
  readonly lr: number | Schedule;
  /** m (default 0.9). */
  readonly momentum?: number;
  /** β (default 0). */
  readonly weightDecay?: number;
  /** η (default 0.001). */
  readonly trustCoefficient?: number;
}

/**
 * Algorithm 1 of the LARS paper, per layer (leaf) with gradient g = ∇L(w) and weights w:
 *
 *   γ = η‖w‖ / (‖g‖ + β‖w‖)     (1 where ‖w‖ or ‖g‖ + β‖w‖ is 0, a case the paper leaves undefined)
 *   v ← m·v + αₜ·γ·(g + βw),  w ← w − v   (v₀ = 0)
 *
 * The local rate γ and the global αₜ enter BEFORE the momentum, unlike the seed's {@link lars} where γ scales the
 * momentum's output. As a chain, with b = −v:
 * `chain(addWeightDecay(β), scaleByTrustRatio({ weightDecay: β, trustCoefficient: η }), scaleByLr(lr), traceMomentum({ momentum }))`,
 * all elementwise, so fused into one pass per leaf. γ reads the raw gradient the outermost chain started from.
 * @example
 * const opt = larsPaper({ lr: polynomialDecay({ init: 2, power: 2, totalSteps: 10_000 }), momentum: 0.9, weightDecay: 5e-4 });
 */
export const larsPaper = (options: LarsPaperOptions): GradientTransformation<ChainState> => {
  const o = readOptions("larsPaper", options, { lr: required(aNumberOrSchedule), momentum: optional(aNumber, 0.9), weightDecay: optional(aNumber, 0), trustCoefficient: optional(aNumber, 0.001) });
  if (E.isLeft(o)) return failing("larsPaper", {}, o.left);
  const { lr, momentum, weightDecay, trustCoefficient } = o.right;
  return namedChain(
    "larsPaper",
    addWeightDecay(weightDecay),
    scaleByTrustRatio({ weightDecay, trustCoefficient }),
    scaleByLr(lr),
    traceMomentum({ momentum }),
  );
};

registerBuilder("larsPaper", larsPaper);
