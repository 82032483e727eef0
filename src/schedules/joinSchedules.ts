/**
 * Schedules one after another, each restarted from its own step 0 at its boundary.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, aNumberOrSchedule, arrayOf, required } from "../core/options.js";
import { describeValue, describedSchedule, refusedSchedule, scheduleOptions, scheduleProblem, type Schedule } from "./schedule.js";

/**
 * αₜ = sₖ(t − bₖ) where k = #{ j ≥ 1 : bⱼ ≤ t } and b₀ = 0: s₀ before the first boundary b₁, s₁(t − b₁) from b₁ on,
 * …, sₙ(t − bₙ) from bₙ on (optax's `join_schedules`). Each sₖ is a schedule or a constant. Needs n + 1 schedules for
 * n strictly increasing whole-number boundaries ≥ 0; otherwise every value is NaN, which {@link scaleByLr} reports as
 * an InvalidOption Left naming the step.
 * @example
 * const lr = joinSchedules({ schedules: [linearWarmup({ steps: 100 }, 0.1), cosineDecay({ init: 0.1, decaySteps: 900 })], boundaries: [100] });
 */
export const joinSchedules = (o: { readonly schedules: readonly (Schedule | number)[]; readonly boundaries: readonly number[] }): Schedule => {
  const read = scheduleOptions("joinSchedules", o, { schedules: required(arrayOf(aNumberOrSchedule)), boundaries: required(arrayOf(aNumber)) });
  if (E.isLeft(read)) return read.left;
  const schedules = [...read.right.schedules];
  const boundaries = [...read.right.boundaries];
  const refused = schedules.findIndex((s) => scheduleProblem(s) !== undefined);
  if (refused >= 0) return refusedSchedule("joinSchedules", `joinSchedules: schedule ${refused} is refused: ${scheduleProblem(schedules[refused])}`);
  const valid =
    schedules.length === boundaries.length + 1 &&
    schedules.every((s) => typeof s === "function" || Number.isFinite(s)) &&
    boundaries.every((b, j) => Number.isSafeInteger(b) && b >= 0 && (j === 0 || b > boundaries[j - 1]!));
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      let k = 0;
      while (k < boundaries.length && boundaries[k]! <= t) k++; // k = #{ j : bⱼ ≤ t }
      const s = schedules[k]!;
      return typeof s === "number" ? s : s(k === 0 ? t : t - boundaries[k - 1]!); // sₖ(t − bₖ)
    },
    { schedule: "joinSchedules", schedules: schedules.map(describeValue), boundaries },
  );
};
