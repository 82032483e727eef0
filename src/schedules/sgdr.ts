/**
 * Warm restarts: warm-up-and-cosine cycles one after another (SGDR, Loshchilov & Hutter 2017).
 * @module
 */
import { joinSchedules } from "./joinSchedules.js";
import { describedSchedule, type Schedule } from "./schedule.js";
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
  const list = Array.isArray(cycles) && cycles.every((c) => typeof c === "object" && c !== null) ? cycles : [];
  const schedules = list.map(warmupCosineDecay);
  // a valid cycle starts at its finite α₀; an invalid one is NaN everywhere
  const valid = schedules.length >= 1 && schedules.every((s) => Number.isFinite(s(0)));
  const boundaries: number[] = [];
  for (let i = 0, B = 0; i + 1 < list.length; i++) boundaries.push((B += list[i]!.decaySteps)); // Bᵢ₊₁ = Bᵢ + Dᵢ
  const joined = joinSchedules({ schedules, boundaries });
  return describedSchedule((t) => (valid ? joined(t) : NaN), {
    schedule: "sgdr",
    cycles: schedules.map((s) => {
      const { schedule: _name, ...options } = s.spec!;
      return options;
    }),
  });
};
