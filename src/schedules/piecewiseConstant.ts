/**
 * A step function of the step: constant between boundaries.
 * @module
 */
import { describedSchedule, type Schedule } from "./schedule.js";

/**
 * αₜ = vᵢ where i = #{ j : bⱼ ≤ t }: v₀ before the first boundary b₁, v₁ from b₁ on, …, vₙ from bₙ on.
 * Needs n + 1 finite values for n strictly increasing whole-number boundaries; otherwise every value is NaN,
 * which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = piecewiseConstant({ values: [0.1, 0.01, 0.001], boundaries: [30, 60] }); lr(29) === 0.1, lr(30) === 0.01
 */
export const piecewiseConstant = (o: { readonly values: readonly number[]; readonly boundaries: readonly number[] }): Schedule => {
  const values = [...o.values];
  const boundaries = [...o.boundaries];
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
