/**
 * Schedules: pure functions from the step (counted from 0) to a hyper-parameter's value.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, optional, readOptions, required } from "../core/options.js";
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
  Object.freeze(Object.assign((step: number) => (typeof step === "number" && typeof f === "function" ? f(step) : NaN), { spec }));

/** The hidden key under which a schedule built from refused options keeps why. */
const PROBLEM: unique symbol = Symbol("larch.scheduleProblem");

/**
 * A schedule whose factory refused its options (one missing, or of the wrong type): every value is NaN, and it
 * carries why, which {@link scaleByLr} returns as its InvalidOption Left before any step.
 * @example
 * const lr = refusedSchedule("cosineDecay", "cosineDecay: missing option decaySteps"); lr(0) // NaN; scaleByLr(lr).init(params) is that Left
 */
export const refusedSchedule = (name: string, problem: string): Schedule => {
  const schedule = Object.assign((_step: number) => NaN, { spec: { schedule: name, invalid: problem } });
  Object.defineProperty(schedule, PROBLEM, { value: problem });
  return Object.freeze(schedule);
};

/**
 * Why a schedule cannot be used (its factory refused its options), or undefined for any other value.
 * @example
 * scheduleProblem(cosineDecay({ init: 0.1 })) // "cosineDecay: missing option decaySteps (a number)"
 */
export const scheduleProblem = (value: unknown): string | undefined => {
  try {
    return typeof value === "function" && Object.prototype.hasOwnProperty.call(value, PROBLEM)
      ? (value as unknown as { [PROBLEM]: string })[PROBLEM]
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The options of a schedule factory read as the core's `readOptions` reads them, or a {@link refusedSchedule}.
 * @example
 * const o = scheduleOptions("constant", { value }, { value: required(aNumber) }); if (E.isLeft(o)) return o.left;
 */
export const scheduleOptions = <F extends Parameters<typeof readOptions>[2]>(
  name: string,
  options: unknown,
  fields: F,
): E.Either<Schedule, ReturnType<typeof readOptions<F>> extends E.Either<unknown, infer A> ? A : never> => {
  const o = readOptions(name, options, fields);
  return E.isLeft(o) ? E.left(refusedSchedule(name, o.left.message)) : (o as never);
};

/**
 * αₜ = α for every t.
 * @example
 * const lr = constantSchedule(0.1); lr(100) === 0.1
 */
export const constantSchedule = (alpha: number): Schedule => {
  const o = scheduleOptions("constantSchedule", { value: alpha }, { value: required(aNumber) });
  if (E.isLeft(o)) return o.left;
  const { value } = o.right;
  return describedSchedule(() => value, { schedule: "constant", value });
};

/**
 * αₜ = (α − α_end)·(1 − min(t, T)/T)^k + α_end: the seed docstring's α(1 − t/T)² with k = 2 and α_end = 0,
 * held at α_end from t = T on.
 * @example
 * const lr = polynomialDecay({ init: 0.5, power: 2, totalSteps: 25 }); lr(0) === 0.5, lr(25) === 0
 */
export const polynomialDecay = (options: {
  readonly init: number;
  readonly power: number;
  readonly totalSteps: number;
  readonly end?: number;
}): Schedule => {
  const read = scheduleOptions("polynomialDecay", options, {
    init: required(aNumber),
    power: required(aNumber),
    totalSteps: required(aNumber),
    end: optional(aNumber, 0),
  });
  if (E.isLeft(read)) return read.left;
  const o = read.right;
  const end = o.end;
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
export const describeValue = (v: number | Schedule): HyperValue => {
  if (typeof v === "number") return v;
  try {
    return (typeof v === "function" ? v.spec : undefined) ?? { schedule: "custom" };
  } catch {
    return { schedule: "custom" }; // a Proxy whose get trap throws
  }
};
