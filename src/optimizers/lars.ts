/**
 * LARS exactly as Holocron's PyTorch optimizer (the seed), as a chain of four transformations.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { chain, type ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import { aBoolean, aNumber, aNumberOrSchedule, aPair, optional, readOptions, required } from "../core/options.js";
import { describeValue, scheduleProblem, type Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByTrustRatio, scaleClipProblem } from "../transforms/scaleByTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link lars}, named as the seed's (camelCase), with its defaults. */
export interface LarsOptions {
  /** Global learning rate α, or a schedule αₜ (e.g. {@link polynomialDecay}). */
  readonly lr: number | Schedule;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
  /** `[lo, hi]`: clamp ‖p‖ in γ's numerator. The seed accepts it and never applies it; omitted here, neither do we. */
  readonly scaleClip?: readonly [number, number];
}

const LARS_OPTIONS = {
  lr: required(aNumberOrSchedule),
  momentum: optional(aNumber, 0),
  dampening: optional(aNumber, 0),
  weightDecay: optional(aNumber, 0),
  nesterov: optional(aBoolean, false),
  scaleClip: optional(aPair, undefined),
};

/** Why the seed would refuse these options (its constructor's checks, plus finiteness), or undefined. */
const invalidLarsOptions = (o: LarsOptions): string | undefined => {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, scaleClip } = o;
  if (typeof lr === "number" && !(Number.isFinite(lr) && lr >= 0)) return `Invalid learning rate: ${lr} (must be finite and >= 0)`;
  if (scheduleProblem(lr) !== undefined) return scheduleProblem(lr);
  if (!(Number.isFinite(momentum) && momentum >= 0)) return `Invalid momentum value: ${momentum} (must be finite and >= 0)`;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) return `Invalid weight_decay value: ${weightDecay} (must be finite and >= 0)`;
  if (!Number.isFinite(dampening)) return `Invalid dampening value: ${dampening} (must be finite)`;
  if (nesterov && (momentum <= 0 || dampening !== 0)) return "Nesterov momentum requires a momentum and zero dampening";
  return scaleClipProblem(scaleClip);
};

/**
 * The seed's LARS, per leaf with raw gradient g and params p:
 *
 *   d = g + λp                                     {@link addWeightDecay}(λ)
 *   b ← d (first step), b ← m·b + (1 − δ)·d        {@link traceMomentum}({ m, δ, nesterov }); output b or d + m·b
 *   γ = ‖p‖ / (‖g‖ + λ‖p‖)  (1 where ‖p‖ or that is 0)  {@link scaleByTrustRatio}(λ): u ← γ·u
 *   u ← −αₜ·u                                      {@link scaleByLr}(α)
 *
 * and then p ← p + u ({@link applyUpdates}). {@link applyStep} runs that whole step as one WebAssembly SIMD pass per
 * leaf generated from the members' bodies, as for any chain in the expression form, when the trees are float32
 * (same bits as the chain's JavaScript; float64 trees run that). It is literally
 * `chain(addWeightDecay(λ), traceMomentum(…), scaleByTrustRatio({ weightDecay: λ, scaleClip }), scaleByLr(α))`.
 * Invalid options (those the seed refuses, and non-finite ones) give a transformation whose init and update
 * return that InvalidOption Left.
 *
 * @example
 * const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 */
export const lars = (options: LarsOptions): GradientTransformation<ChainState> => {
  const read = readOptions("lars", options, LARS_OPTIONS);
  if (E.isLeft(read)) return failing("lars", {}, read.left);
  const o = read.right as LarsOptions;
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, scaleClip } = o;
  const problem = invalidLarsOptions(o);
  if (problem !== undefined)
    return failing("lars", { lr: describeValue(lr), momentum, dampening, weightDecay, nesterov }, optimizerError("InvalidOption", problem));
  const larsChain = chain(
    addWeightDecay(weightDecay),
    traceMomentum({ momentum, dampening, nesterov }),
    scaleByTrustRatio(scaleClip ? { weightDecay, scaleClip } : { weightDecay }),
    scaleByLr(lr),
  );
  return Object.freeze({ ...larsChain, name: "lars" });
};

registerBuilder("lars", lars);
