/**
 * LARS in optax's order (`optax.lars`), for runs moved between optax and larch.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import type { GradientTransformation } from "../core/transform.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { Schedule } from "../schedules/schedule.js";
import { namedChain } from "./namedChain.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByUpdateTrustRatio } from "../transforms/scaleByUpdateTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link larsOptax}, named as `optax.lars`'s (camelCase), with its defaults. */
export interface LarsOptaxOptions {
  /** Learning rate α, or a schedule αₜ. */
  readonly lr: number | Schedule;
  readonly weightDecay?: number;
  /** η (default 0.001). */
  readonly trustCoefficient?: number;
  /** ε added to the update's norm (default 0). */
  readonly eps?: number;
  /** m (default 0.9). */
  readonly momentum?: number;
  readonly nesterov?: boolean;
}

/**
 * `optax.lars` (with its masks all true), per leaf with gradient g and params p:
 *
 *   d = g + λp                                         {@link addWeightDecay}(λ)
 *   d ← γ·d,  γ = η‖p‖ / (‖d‖ + ε)  (1 where ‖p‖ or ‖d‖ is 0)   {@link scaleByUpdateTrustRatio}({ η, ε })
 *   d ← −αₜ·d                                          {@link scaleByLr}(α)
 *   b ← m·b + d (b₀ = 0); output b, or d + m·b with Nesterov   {@link traceMomentum}({ m, nesterov })
 *
 * i.e. `chain(addWeightDecay(λ), scaleByUpdateTrustRatio({ trustCoefficient, eps }), scaleByLr(lr), traceMomentum({ momentum, nesterov }))`.
 * Unlike the seed's {@link lars}, the ratio is taken of the decayed update (not of the raw gradient), and the
 * learning rate enters before the momentum (so a schedule changes only new contributions to the trace).
 * optax accepts Nesterov without momentum (where it changes nothing); so does this, by dropping the flag then.
 * @example
 * const opt = larsOptax({ lr: 1.0, weightDecay: 1e-4, trustCoefficient: 0.001, momentum: 0.9 });
 */
export const larsOptax = (options: LarsOptaxOptions): GradientTransformation<ChainState> => {
  const o = readOptions("larsOptax", options, { lr: required(aNumberOrSchedule), weightDecay: optional(aNumber, 0), trustCoefficient: optional(aNumber, 0.001), eps: optional(aNumber, 0), momentum: optional(aNumber, 0.9), nesterov: optional(aBoolean, false) });
  if (E.isLeft(o)) return failing("larsOptax", {}, o.left);
  const { lr, weightDecay, trustCoefficient, eps, momentum, nesterov } = o.right;
  return namedChain(
    "larsOptax",
    addWeightDecay(weightDecay),
    scaleByUpdateTrustRatio({ trustCoefficient, eps }),
    scaleByLr(lr),
    traceMomentum({ momentum, nesterov: nesterov && momentum > 0 }),
  );
};

registerBuilder("larsOptax", larsOptax);
