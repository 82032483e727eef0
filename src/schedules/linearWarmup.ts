/**
 * A linear warm-up in front of any schedule.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, aNumberOrSchedule, optional, required } from "../core/options.js";
import { describeValue, describedSchedule, refusedSchedule, scheduleOptions, scheduleProblem, type Schedule } from "./schedule.js";

/**
 * Ramps linearly from `start` to the schedule's first value over W steps, then runs the schedule from its step 0:
 *
 *   αₜ = s + (β₀ − s)·t/W  for t < W,   αₜ = β_{t−W}  for t ≥ W
 *
 * where β is `then` (a schedule, or a constant). W must be a whole number ≥ 0 (W = 0: β itself) and `start`
 * finite; otherwise every value is NaN, which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = linearWarmup({ steps: 500 }, cosineDecay({ init: 0.1, decaySteps: 10_000 })); lr(250) === 0.05
 */
export const linearWarmup = (options: { readonly steps: number; readonly start?: number }, next: Schedule | number): Schedule => {
  const read = scheduleOptions("linearWarmup", options, { steps: required(aNumber), start: optional(aNumber, 0) });
  if (E.isLeft(read)) return read.left;
  const { start, steps: W } = read.right;
  const followedBy = scheduleOptions("linearWarmup", { then: next }, { then: required(aNumberOrSchedule) });
  if (E.isLeft(followedBy)) return followedBy.left;
  const then = followedBy.right.then as Schedule | number;
  const problem = scheduleProblem(then);
  if (problem !== undefined) return refusedSchedule("linearWarmup", `linearWarmup: its schedule is refused: ${problem}`);
  const after = typeof then === "number" ? () => then : then;
  const valid = Number.isSafeInteger(W) && W >= 0 && Number.isFinite(start);
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      if (t >= W) return after(t - W); // β_{t−W}
      return start + ((after(0) - start) * t) / W; // s + (β₀ − s)·t/W
    },
    { schedule: "linearWarmup", steps: W, start, then: describeValue(then) },
  );
};

