/**
 * PyTorch's SGD (the seed without its trust ratio), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { refusingNonFinite } from "../core/finiteInputs.js";
import type { GradientTransformation } from "../core/transform.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { Schedule } from "../schedules/schedule.js";
import { namedChain } from "./namedChain.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link sgd}, named as `torch.optim.SGD`'s (camelCase), with its defaults. */
export interface SgdOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
}

/**
 * `torch.optim.SGD`, per leaf with gradient g and params p:
 *
 *   d = g + λp                                     {@link addWeightDecay}(λ)
 *   b ← d (first step), b ← m·b + (1 − δ)·d        {@link traceMomentum}({ m, δ, nesterov }); output b or d + m·b
 *   u ← −αₜ·u                                      {@link scaleByLr}(α)
 *
 * i.e. `chain(addWeightDecay(λ), traceMomentum({ momentum, dampening, nesterov }), scaleByLr(lr))`, fused into one
 * pass per leaf. Invalid options (negative or non-finite lr, momentum or weight decay; Nesterov without momentum
 * or with dampening) make `init` and `update` return the InvalidOption Left of the member that refuses them.
 * @example
 * const opt = sgd({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true });
 */
export const sgd = (options: SgdOptions): GradientTransformation<ChainState> => {
  const o = readOptions("sgd", options, { lr: required(aNumberOrSchedule), momentum: optional(aNumber, 0), dampening: optional(aNumber, 0), weightDecay: optional(aNumber, 0), nesterov: optional(aBoolean, false) });
  if (E.isLeft(o)) return failing("sgd", {}, o.left);
  const { lr, momentum, dampening, weightDecay, nesterov } = o.right;
  return refusingNonFinite(namedChain("sgd", addWeightDecay(weightDecay), traceMomentum({ momentum, dampening, nesterov }), scaleByLr(lr)));
};

registerBuilder("sgd", sgd);
