/**
 * Warm restarts: warm-up-and-cosine cycles one after another (SGDR, Loshchilov & Hutter 2017).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { joinSchedules } from "./joinSchedules.js";
import { aRecord, arrayOf, readOptions, required } from "../core/options.js";
import { describedSchedule, refusedSchedule, scheduleProblem, type Schedule } from "./schedule.js";
import { warmupCosineDecay, type WarmupCosineDecayOptions } from "./warmupCosineDecay.js";

/**
 * Cycle i is {@link warmupCosineDecay}(cᵢ) run from its own step 0, starting where the cycles before it end:
 *
 *   αₜ = wcdᵢ(t − Bᵢ)  for Bᵢ ≤ t < Bᵢ₊₁,   B₀ = 0,  Bᵢ₊₁ = Bᵢ + Dᵢ  (Dᵢ: cycle i's `decaySteps`, its warm-up included)
 *
 * and the last cycle's end value after it (optax's `sgdr_schedule`). Needs at least one cycle, each valid for
 * {@link warmupCosineDecay}; otherwise every value is NaN, which {@link scaleByLr} reports as an InvalidOption Left.
 * @example
 * const lr = sgdr(Array(4).fill({ init: 0, peak: 0.1, warmupSteps: 100, decaySteps: 1000 })); // 4 cycles of 1000 steps
 */
export const sgdr = (cycles: readonly WarmupCosineDecayOptions[]): Schedule => {
  const read = readOptions("sgdr", { cycles }, { cycles: required(arrayOf(aRecord)) });
  if (E.isLeft(read)) return refusedSchedule("sgdr", read.left.message);
  const schedules = read.right.cycles.map((c) => warmupCosineDecay(c as unknown as WarmupCosineDecayOptions));
  const refused = schedules.findIndex((s) => scheduleProblem(s) !== undefined);
  if (refused >= 0) return refusedSchedule("sgdr", `sgdr: cycle ${refused} is refused: ${scheduleProblem(schedules[refused])}`);
  // a valid cycle starts at its finite α₀; an invalid one is NaN everywhere
  const valid = schedules.length >= 1 && schedules.every((s) => Number.isFinite(s(0)));
  const boundaries: number[] = [];
  for (let i = 0, B = 0; i + 1 < schedules.length; i++) boundaries.push((B += schedules[i]!.spec!["decaySteps"] as number)); // Bᵢ₊₁ = Bᵢ + Dᵢ
  const joined = joinSchedules({ schedules, boundaries });
  return describedSchedule((t) => (valid ? joined(t) : NaN), {
    schedule: "sgdr",
    cycles: schedules.map((s) => {
      const { schedule: _name, ...options } = s.spec!;
      return options;
    }),
  });
};
