/**
 * Exponential decay (or growth) of a hyper-parameter, optionally in stairs and bounded.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aBoolean, aNumber, optional, required } from "../core/options.js";
import { describedSchedule, scheduleOptions, type Schedule } from "./schedule.js";

/**
 * αₜ = α₀ for t ≤ B, else α₀·r^p with p = (t − B)/T (⌊(t − B)/T⌋ with `staircase`), then bounded by `end` when given:
 * max(αₜ, end) for r < 1, min(αₜ, end) for r > 1 (optax's `exponential_decay`). T (`transitionSteps`) must be a whole
 * number ≥ 1, B (`transitionBegin`, default 0) a whole number ≥ 0, r (`decayRate`) finite and > 0, α₀ and `end`
 * finite; otherwise every value is NaN, which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * (optax turns T ≤ 0 or r = 0 into a constant α₀; larch refuses them, as it refuses a constant that was meant to decay.)
 * @example
 * const lr = exponentialDecay({ init: 0.1, transitionSteps: 1000, decayRate: 0.5 }); lr(1000) === 0.05
 */
export const exponentialDecay = (options: {
  readonly init: number;
  readonly transitionSteps: number;
  readonly decayRate: number;
  readonly transitionBegin?: number;
  readonly staircase?: boolean;
  readonly end?: number;
}): Schedule => {
  const read = scheduleOptions("exponentialDecay", options, {
    init: required(aNumber), transitionSteps: required(aNumber), decayRate: required(aNumber),
    transitionBegin: optional(aNumber, 0), staircase: optional(aBoolean, false), end: optional(aNumber, undefined),
  });
  if (E.isLeft(read)) return read.left;
  const o = read.right;
  const T = o.transitionSteps;
  const r = o.decayRate;
  const B = o.transitionBegin;
  const staircase = o.staircase;
  const end = o.end;
  const valid =
    Number.isFinite(o.init) &&
    Number.isSafeInteger(T) &&
    T >= 1 &&
    Number.isFinite(r) &&
    r > 0 &&
    Number.isSafeInteger(B) &&
    B >= 0 &&
    (end === undefined || Number.isFinite(end));
  const bound = (v: number): number => (end === undefined ? v : r < 1 ? Math.max(v, end) : Math.min(v, end));
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      const since = t - B;
      const p = staircase ? Math.floor(since / T) : since / T; // p = (t − B)/T, or its floor
      return bound(since <= 0 ? o.init : o.init * Math.pow(r, p)); // α₀·r^p, bounded by end
    },
    { schedule: "exponentialDecay", init: o.init, transitionSteps: T, decayRate: r, transitionBegin: B, staircase, end: end ?? null },
  );
};
