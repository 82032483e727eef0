/**
 * The one-cycle policy (Smith & Topin 2018): up to a peak, then down far below the start.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { aNumber, oneOf, optional, required } from "../core/options.js";
import { describedSchedule, scheduleOptions, type Schedule } from "./schedule.js";

/** The options of {@link oneCycle}, named as optax's `cosine_onecycle_schedule` and `linear_onecycle_schedule` name theirs. */
export interface OneCycleOptions {
  /** T: the cycle's length in steps; the value stays at its last one from t = T on. */
  readonly transitionSteps: number;
  /** α̂: the value at the top of the cycle. */
  readonly peak: number;
  /** The top is at step ⌊pctStart·T⌋ (default 0.3). */
  readonly pctStart?: number;
  /** Linear only: the value is back at the start at step ⌊pctFinal·T⌋ (default 0.85). */
  readonly pctFinal?: number;
  /** The start is α̂/divFactor (default 25). */
  readonly divFactor?: number;
  /** The end is the start / finalDivFactor (default 10⁴). */
  readonly finalDivFactor?: number;
  /** How each phase moves between its end values: "cosine" (default) or "linear". */
  readonly anneal?: "cosine" | "linear";
}

/** Phase boundaries and the factor each applies, merged by step as optax's dict of boundaries merges them (a later entry wins). */
const phases = (entries: readonly (readonly [number, number])[]): { bounds: number[]; scales: number[] } => {
  const byStep = new Map<number, number>();
  for (const [step, scale] of entries) byStep.set(step, scale);
  const sorted = [...byStep].sort((x, y) => x[0] - y[0]);
  return { bounds: sorted.map((e) => e[0]), scales: sorted.map((e) => e[1]) };
};

const linear = (start: number, end: number, pct: number): number => (end - start) * pct + start;
const cosine = (start: number, end: number, pct: number): number => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/**
 * A piecewise schedule through the values vᵢ = α₀·∏_{j ≤ i} sⱼ at steps bᵢ (b₀ = 0, v₀ = α₀ = α̂/divFactor), each phase
 * interpolated from vᵢ to vᵢ₊₁ by pct = (t − bᵢ)/max(bᵢ₊₁ − bᵢ, 1), held at the last value after the last step
 * (optax's `piecewise_interpolate_schedule`, through which its one-cycle schedules are written):
 *
 * - cosine (`cosine_onecycle_schedule`): α₀ → α̂ at ⌊pctStart·T⌋ → α₀/finalDivFactor at T,
 *   each phase vᵢ₊₁ + (vᵢ − vᵢ₊₁)/2·(cos(π·pct) + 1);
 * - linear (`linear_onecycle_schedule`): α₀ → α̂ at ⌊pctStart·T⌋ → α₀ at ⌊pctFinal·T⌋ → α₀/finalDivFactor at T,
 *   each phase (vᵢ₊₁ − vᵢ)·pct + vᵢ.
 *
 * T must be a whole number ≥ 1, α̂ finite, the fractions in [0, 1] and the factors finite and > 0; otherwise every value
 * is NaN, which {@link scaleByLr} reports as an InvalidOption Left naming the step.
 * @example
 * const lr = oneCycle({ transitionSteps: 1000, peak: 0.1 }); lr(0) === 0.004, lr(300) === 0.1, lr(1000) === 4e-7
 */
export const oneCycle = (options: OneCycleOptions): Schedule => {
  const read = scheduleOptions("oneCycle", options, {
    transitionSteps: required(aNumber),
    peak: required(aNumber),
    pctStart: optional(aNumber, 0.3),
    pctFinal: optional(aNumber, 0.85),
    divFactor: optional(aNumber, 25),
    finalDivFactor: optional(aNumber, 1e4),
    anneal: optional(oneOf(["cosine", "linear"] as const), "cosine"),
  });
  if (E.isLeft(read)) return read.left;
  const o = read.right;
  const T = o.transitionSteps;
  const { pctStart, pctFinal, anneal } = o;
  const div = o.divFactor;
  const finalDiv = o.finalDivFactor;
  const fraction = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;
  const factor = (x: number) => Number.isFinite(x) && x > 0;
  const valid =
    Number.isSafeInteger(T) && T >= 1 && Number.isFinite(o.peak) && fraction(pctStart) && fraction(pctFinal) && factor(div) && factor(finalDiv);
  const init = o.peak / div;
  const { bounds, scales } =
    anneal === "linear"
      ? phases([[Math.trunc(pctStart * T), div], [Math.trunc(pctFinal * T), 1 / div], [T, 1 / finalDiv]])
      : phases([[Math.trunc(pctStart * T), div], [T, 1 / (div * finalDiv)]]);
  bounds.unshift(0);
  const values = [init];
  for (const s of scales) values.push(values[values.length - 1]! * s); // vᵢ₊₁ = vᵢ·sᵢ₊₁
  const interpolate = anneal === "linear" ? linear : cosine;
  return describedSchedule(
    (t) => {
      if (!valid) return NaN;
      const last = bounds.length - 1;
      if (t >= bounds[last]!) return values[last]!;
      for (let i = 0; i < last; i++)
        if (bounds[i]! <= t && t < bounds[i + 1]!) return interpolate(values[i]!, values[i + 1]!, (t - bounds[i]!) / Math.max(bounds[i + 1]! - bounds[i]!, 1));
      return 0; // t < 0: no phase (as optax's sum over phases)
    },
    {
      schedule: "oneCycle",
      anneal,
      transitionSteps: T,
      peak: o.peak,
      pctStart,
      ...(anneal === "linear" ? { pctFinal } : {}),
      divFactor: div,
      finalDivFactor: finalDiv,
    },
  );
};
