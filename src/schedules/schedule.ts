/**
 * Schedules: pure functions from the step (counted from 0) to a hyper-parameter's value.
 * @module
 */
import type { HyperValue } from "../core/transform.js";

/** A hyper-parameter as a pure function of the step t = 0, 1, 2, …; `spec` says which schedule it is. */
export interface Schedule {
  (step: number): number;
  readonly spec?: { readonly [key: string]: HyperValue };
}

/**
 * Gives a schedule function its description (for checkpoints and reports).
 * @example
 * const halving = describedSchedule((t) => 0.1 * 0.5 ** Math.floor(t / 1000), { schedule: "halving", every: 1000 });
 */
export const describedSchedule = (f: (step: number) => number, spec: { readonly [key: string]: HyperValue }): Schedule =>
  Object.freeze(Object.assign((step: number) => f(step), { spec }));

/**
 * αₜ = α for every t.
 * @example
 * const lr = constantSchedule(0.1); lr(100) === 0.1
 */
export const constantSchedule = (value: number): Schedule =>
  describedSchedule(() => value, { schedule: "constant", value });

/**
 * αₜ = (α − α_end)·(1 − min(t, T)/T)^k + α_end: the seed docstring's α(1 − t/T)² with k = 2 and α_end = 0,
 * held at α_end from t = T on.
 * @example
 * const lr = polynomialDecay({ init: 0.5, power: 2, totalSteps: 25 }); lr(0) === 0.5, lr(25) === 0
 */
export const polynomialDecay = (o: {
  readonly init: number;
  readonly power: number;
  readonly totalSteps: number;
  readonly end?: number;
}): Schedule => {
  const end = o.end ?? 0;
  return describedSchedule(
    (t) => (o.init - end) * Math.pow(1 - Math.min(t, o.totalSteps) / o.totalSteps, o.power) + end,
    { schedule: "polynomialDecay", init: o.init, power: o.power, totalSteps: o.totalSteps, end },
  );
};

/**
 * The description of a number or schedule, for a transformation's hyper-parameters.
 * @example
 * describeValue(0.1) === 0.1; describeValue(constantSchedule(0.1)) // { schedule: "constant", value: 0.1 }
 */
export const describeValue = (v: number | Schedule): HyperValue =>
  typeof v === "number" ? v : (v.spec ?? { schedule: "custom" });
