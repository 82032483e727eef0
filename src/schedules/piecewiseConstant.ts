/**
 * A step function of the step: constant between boundaries.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { numbers, required } from "../core/options.js";
import { describedSchedule, scheduleOptions, type Schedule } from "./schedule.js";

/**
 * αₜ = vᵢ where i = #{ j : bⱼ ≤ t }: v₀ before the first boundary b₁, v₁ from b₁ on, …, vₙ from bₙ on.
 * Needs n + 1 finite values for n strictly increasing whole-number boundaries; otherwise every value is NaN,
 * which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = piecewiseConstant({ values: [0.1, 0.01, 0.001], boundaries: [30, 60] }); lr(29) === 0.1, lr(30) === 0.01
 */
export const piecewiseConstant = (options: { readonly values: readonly number[]; readonly boundaries: readonly number[] }): Schedule => {
  const o = scheduleOptions("piecewiseConstant", options, { values: required(numbers), boundaries: required(numbers) });
  if (E.isLeft(o)) return o.left;
  const values = [...o.right.values];
  const boundaries = [...o.right.boundaries];
  const valid =
    values.length === boundaries.length + 1 &&
    values.every(Number.isFinite) &&
    boundaries.every((b, j) => Number.isSafeInteger(b) && b >= 0 && (j === 0 || b > boundaries[j - 1]!));
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      let i = 0;
      while (i < boundaries.length && boundaries[i]! <= t) i++; // i = #{ j : bⱼ ≤ t }
      return values[i]!;
    },
    { schedule: "piecewiseConstant", values, boundaries },
  );
};
