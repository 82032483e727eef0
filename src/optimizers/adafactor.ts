/**
 * Adafactor (Shazeer & Stern 2018, "Adaptive Learning Rates with Sublinear Memory Cost"), as a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import type { ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, type OptionType } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { clipByBlockRms } from "../transforms/clipByBlockRms.js";
import { ema } from "../transforms/ema.js";
import { scale } from "../transforms/scale.js";
import { scaleByFactoredRms } from "../transforms/scaleByFactoredRms.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByParamBlockRms } from "../transforms/scaleByParamBlockRms.js";
import { namedChain } from "./namedChain.js";

/** Options of {@link adafactor}, named as optax's `adafactor` (`lr` for `learning_rate`), with its defaults. */
export interface AdafactorOptions {
  /** Learning rate α or a schedule αₜ; null or omitted: none (optax's default; the step is then relative to rms(p)). */
  readonly lr?: number | Schedule | null;
  /** Factor a leaf's second moment when its second-largest dimension is at least this (default 128). */
  readonly minDimSizeToFactor?: number;
  /** c of the second moment's decay β̂ₜ = 1 − t^(−c) (default 0.8). */
  readonly decayRate?: number;
  /** The step the decay schedule counts from, t = step − decayOffset + 1 (default 0). */
  readonly decayOffset?: number;
  /** Multiply the step by max(1e-3, rms(p)) of each leaf (default true). */
  readonly multiplyByParameterScale?: boolean;
  /** d: clip each leaf's update to rms ≤ d (default 1; null: no clipping). */
  readonly clippingThreshold?: number | null;
  /** β: momentum of the scaled updates, an ema without debiasing (default null: none). Kept in the leaf's dtype. */
  readonly momentum?: number | null;
  /** λ: adds λ·p after the momentum, not scaled by α (default null: none). */
  readonly weightDecayRate?: number | null;
  /** ε₁ added to g² (default 1e-30). */
  readonly eps?: number;
  /** Factor second moments at all (default true). */
  readonly factored?: boolean;
}

const orNull = <A>(t: OptionType<A>): OptionType<A | null> => ({ is: `${t.is} or null`, accepts: (x): x is A | null => x === null || t.accepts(x) });

/**
 * optax's `adafactor`, as the chain it is (members left out where their option is null or false):
 *
 *   scaleByFactoredRms({ factored, decayRate, decayOffset, minDimSizeToFactor, eps })  u ← g / √v̂, v̂ = r·c / mean(r) or v
 *   clipByBlockRms(clippingThreshold)                                                   u ← u / max(1, rms(u) / d)
 *   scaleByLr(lr), scale(−1)                                                            u ← αₜ·u   (optax's flip_sign=False)
 *   scaleByParamBlockRms()                                                              u ← max(1e-3, rms(p))·u
 *   ema({ decay: momentum, debias: false })                                             m ← β·m + (1 − β)·u, u ← m
 *   addWeightDecay(weightDecayRate)                                                     u ← u + λp
 *   scale(−1)                                                                           u ← −u
 *
 * State: a factored m×n leaf keeps m + n numbers (its row and column means), any other leaf one per element, plus one
 * per element for the momentum (see {@link scaleByFactoredRms}); float32, a factored 1024×1024 weight costs
 * 8 KB instead of Adam's 8 MB. The first two members read whole leaves before they write (row and column means, a
 * leaf's rms), so they run on their own; the members after them run fused, one pass per leaf, and `applyStep` fuses
 * that pass with p + u (the chain's `fusableTail`).
 * Defaults as optax's: no learning rate, minDimSizeToFactor 128, decayRate 0.8, decayOffset 0, parameter scale on,
 * clipping 1, no momentum, no weight decay, ε₁ 1e-30. Invalid options are the refusing member's InvalidOption Left.
 * @example
 * const opt = adafactor({ lr: 1e-2 });
 */
export const adafactor = (o: AdafactorOptions = {}): GradientTransformation<ChainState> => {
  const name = "adafactor";
  const read = readOptions(name, o, {
    lr: optional(orNull(aNumberOrSchedule), null), minDimSizeToFactor: optional(aNumber, 128), decayRate: optional(aNumber, 0.8),
    decayOffset: optional(aNumber, 0), multiplyByParameterScale: optional(aBoolean, true), clippingThreshold: optional(orNull(aNumber), 1),
    momentum: optional(orNull(aNumber), null), weightDecayRate: optional(orNull(aNumber), null), eps: optional(aNumber, 1e-30),
    factored: optional(aBoolean, true),
  });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { lr, minDimSizeToFactor, decayRate, decayOffset, multiplyByParameterScale, clippingThreshold, momentum, weightDecayRate, eps, factored } = read.right;
  return namedChain(
    name,
    scaleByFactoredRms({ factored, decayRate, decayOffset, minDimSizeToFactor, eps }),
    ...(clippingThreshold === null ? [] : [clipByBlockRms(clippingThreshold)]),
    ...(lr === null ? [] : [scaleByLr(lr as number | Schedule), scale(-1)]),
    ...(multiplyByParameterScale ? [scaleByParamBlockRms()] : []),
    ...(momentum === null ? [] : [ema({ decay: momentum, debias: false })]),
    ...(weightDecayRate === null ? [] : [addWeightDecay(weightDecayRate)]),
    scale(-1),
  );
};

registerBuilder("adafactor", adafactor);
