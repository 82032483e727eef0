/**
 * Cosine decay (Loshchilov & Hutter 2017, without restarts).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, optional, required } from "../core/options.js";
import { describedSchedule, scheduleOptions, type Schedule } from "./schedule.js";

/**
 * αₜ = α₀·((1 − a)·½(1 + cos(π·min(t, T)/T)) + a): from α₀ at t = 0 down to a·α₀ at t = T, held there after
 * (optax's `cosine_decay_schedule` with exponent 1). T must be a whole number ≥ 1 and α₀, a finite; otherwise
 * every value is NaN, which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = cosineDecay({ init: 0.1, decaySteps: 1000, alpha: 0.01 }); lr(0) === 0.1, lr(1000) === 0.001
 */
export const cosineDecay = (options: { readonly init: number; readonly decaySteps: number; readonly alpha?: number }): Schedule => {
  const read = scheduleOptions("cosineDecay", options, { init: required(aNumber), decaySteps: required(aNumber), alpha: optional(aNumber, 0) });
  if (E.isLeft(read)) return read.left;
  const o = read.right;
  const alpha = o.alpha;
  const T = o.decaySteps;
  const valid = Number.isFinite(o.init) && Number.isFinite(alpha) && Number.isSafeInteger(T) && T >= 1;
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      const cosine = 0.5 * (1 + Math.cos((Math.PI * Math.min(t, T)) / T)); // ½(1 + cos(π·min(t, T)/T))
      return o.init * ((1 - alpha) * cosine + alpha);
    },
    { schedule: "cosineDecay", init: o.init, decaySteps: T, alpha },
  );
};
