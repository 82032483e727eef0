/**
 * A linear warm-up to a peak, then a cosine decay to an end value.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, optional, required } from "../core/options.js";
import { describedSchedule, scheduleOptions, type Schedule } from "./schedule.js";

/** The options of {@link warmupCosineDecay} (and of each cycle of {@link sgdr}). */
export interface WarmupCosineDecayOptions {
  /** The value at t = 0, where the warm-up starts. */
  readonly init: number;
  /** The value at the end of the warm-up, where the decay starts. */
  readonly peak: number;
  /** W: the warm-up's length in steps (0: decay from t = 0). */
  readonly warmupSteps: number;
  /** D: the whole schedule's length in steps, warm-up included (D > W). */
  readonly decaySteps: number;
  /** The value from t = D on (default 0). */
  readonly end?: number;
  /** k: the cosine factor's power (default 1). */
  readonly exponent?: number;
}

/**
 * optax's `warmup_cosine_decay_schedule`:
 *
 *   αₜ = (α₀ − α̂)·(1 − t/W) + α̂                          for t < W
 *   αₜ = α̂·((1 − a)·(½(1 + cos(π·s/(D − W))))ᵏ + a)      for t ≥ W, s = min(t − W, D − W), a = α_end/α̂ (0 if α̂ = 0)
 *
 * so the value rises from α₀ to the peak α̂ over W steps and falls to α_end at t = D, where it stays. W must be a whole
 * number ≥ 0, D a whole number > W, the values finite and k finite and > 0; otherwise every value is NaN, which
 * {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = warmupCosineDecay({ init: 0, peak: 0.1, warmupSteps: 500, decaySteps: 10_000 }); lr(250) === 0.05, lr(500) === 0.1
 */
export const warmupCosineDecay = (options: WarmupCosineDecayOptions): Schedule => {
  const read = scheduleOptions("warmupCosineDecay", options, {
    init: required(aNumber),
    peak: required(aNumber),
    warmupSteps: required(aNumber),
    decaySteps: required(aNumber),
    end: optional(aNumber, 0),
    exponent: optional(aNumber, 1),
  });
  if (E.isLeft(read)) return read.left;
  const o = read.right;
  const end = o.end;
  const k = o.exponent;
  const W = o.warmupSteps;
  const D = o.decaySteps;
  const valid =
    [o.init, o.peak, end].every(Number.isFinite) &&
    Number.isFinite(k) &&
    k > 0 &&
    Number.isSafeInteger(W) &&
    W >= 0 &&
    Number.isSafeInteger(D) &&
    D > W;
  const a = o.peak === 0 ? 0 : end / o.peak;
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      if (t < W) return (o.init - o.peak) * (1 - t / W) + o.peak; // (α₀ − α̂)·(1 − t/W) + α̂
      const s = Math.min(t - W, D - W);
      const cosine = 0.5 * (1 + Math.cos((Math.PI * s) / (D - W))); // ½(1 + cos(π·s/(D − W)))
      return o.peak * ((1 - a) * Math.pow(cosine, k) + a);
    },
    { schedule: "warmupCosineDecay", init: o.init, peak: o.peak, warmupSteps: W, decaySteps: D, end, exponent: k },
  );
};
