/** Schedules: each a pure function of the step, checked against its definition; invalid options are NaN, which scaleByLr refuses. */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  constantSchedule,
  cosineDecay,
  exponentialDecay,
  joinSchedules,
  linearWarmup,
  oneCycle,
  piecewiseConstant,
  scaleByLr,
  sgdr,
  warmupCosineDecay,
  type Leaf,
  type Schedule,
} from "larch";

const step = fc.integer({ min: 0, max: 10_000 });

describe("cosineDecay", () => {
  test.prop([fc.double({ min: 0, max: 10, noNaN: true }), fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), step])(
    "starts at α₀, ends at a·α₀, is monotone, and is α₀((1 − a)·½(1 + cos(πt/T)) + a)",
    (init, T, alpha, t) => {
      const lr = cosineDecay({ init, decaySteps: T, alpha });
      const close = (x: number, y: number) => expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(y)));
      close(lr(0), init);
      close(lr(T), alpha * init);
      close(lr(T + t), alpha * init);
      expect(lr(Math.min(t + 1, T))).toBeLessThanOrEqual(lr(Math.min(t, T)) + 1e-15);
      const s = Math.min(t, T);
      close(lr(t), init * ((1 - alpha) * (Math.cos((Math.PI * s) / T) + 1) / 2 + alpha));
      expect(lr(t)).toBe(lr(t)); // pure: the same step gives the same value
      expect(lr.spec).toEqual({ schedule: "cosineDecay", init, decaySteps: T, alpha });
    },
  );
});

describe("linearWarmup", () => {
  test.prop([fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), step])(
    "ramps linearly from start to the schedule's first value, then runs the schedule shifted by the warm-up",
    (W, start, t) => {
      const after = cosineDecay({ init: 0.5, decaySteps: 1000 });
      const lr = linearWarmup({ steps: W, start }, after);
      if (t >= W) expect(lr(t)).toBe(after(t - W));
      else expect(Math.abs(lr(t) - (start + ((0.5 - start) * t) / W))).toBeLessThanOrEqual(1e-15);
      expect(lr(0)).toBe(W === 0 ? 0.5 : start);
      expect(lr(W)).toBe(0.5);
    },
  );

  it("accepts a constant as the schedule after the warm-up, and describes what it wraps", () => {
    const lr = linearWarmup({ steps: 4 }, 0.2);
    for (const t of [0, 1, 2, 3]) expect(lr(t)).toBe((0.2 * t) / 4); // s + (β₀ − s)·t/W with s = 0
    for (const t of [4, 5, 100]) expect(lr(t)).toBe(0.2);
    expect(linearWarmup({ steps: 4 }, constantSchedule(0.2)).spec).toEqual({
      schedule: "linearWarmup",
      steps: 4,
      start: 0,
      then: { schedule: "constant", value: 0.2 },
    });
  });
});

describe("piecewiseConstant", () => {
  test.prop([fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 5 }), step])(
    "is vᵢ with i the number of boundaries at or before t",
    (raw, t) => {
      const boundaries = [...raw].sort((a, b) => a - b);
      const values = [...boundaries.keys(), boundaries.length].map((i) => 1 / (i + 1));
      const lr = piecewiseConstant({ values, boundaries });
      expect(lr(t)).toBe(values[boundaries.filter((b) => b <= t).length]);
      for (const b of boundaries) expect(lr(b)).not.toBe(lr(b - 1)); // changes exactly at each boundary
    },
  );
});

describe("invalid schedule options", () => {
  const ok = { init: 0, peak: 0.1, warmupSteps: 2, decaySteps: 10 };
  const bad: [string, Schedule][] = [
    ["cosineDecay with decaySteps 0", cosineDecay({ init: 0.1, decaySteps: 0 })],
    ["cosineDecay with a NaN init", cosineDecay({ init: NaN, decaySteps: 10 })],
    ["linearWarmup with negative steps", linearWarmup({ steps: -1 }, 0.1)],
    ["piecewiseConstant with too few values", piecewiseConstant({ values: [0.1], boundaries: [5] })],
    ["piecewiseConstant with unsorted boundaries", piecewiseConstant({ values: [1, 2, 3], boundaries: [5, 2] })],
    ["exponentialDecay with transitionSteps 0", exponentialDecay({ init: 0.1, transitionSteps: 0, decayRate: 0.5 })],
    ["exponentialDecay with decayRate 0", exponentialDecay({ init: 0.1, transitionSteps: 5, decayRate: 0 })],
    ["exponentialDecay with a fractional transitionBegin", exponentialDecay({ init: 0.1, transitionSteps: 5, decayRate: 0.5, transitionBegin: 1.5 })],
    ["exponentialDecay with a NaN end", exponentialDecay({ init: 0.1, transitionSteps: 5, decayRate: 0.5, end: NaN })],
    ["warmupCosineDecay with decaySteps = warmupSteps", warmupCosineDecay({ ...ok, decaySteps: 2 })],
    ["warmupCosineDecay with exponent 0", warmupCosineDecay({ ...ok, exponent: 0 })],
    ["sgdr without cycles", sgdr([])],
    ["sgdr with one invalid cycle", sgdr([ok, { ...ok, warmupSteps: -1 }])],
    ["oneCycle with transitionSteps 0", oneCycle({ transitionSteps: 0, peak: 0.1 })],
    ["oneCycle with pctStart 1.5", oneCycle({ transitionSteps: 10, peak: 0.1, pctStart: 1.5 })],
    ["oneCycle with divFactor 0", oneCycle({ transitionSteps: 10, peak: 0.1, divFactor: 0 })],
    ["joinSchedules with too few schedules", joinSchedules({ schedules: [0.1], boundaries: [5] })],
    ["joinSchedules with unsorted boundaries", joinSchedules({ schedules: [0.1, 0.2, 0.3], boundaries: [5, 2] })],
  ];
  for (const [what, schedule] of bad)
    it(`${what}: NaN, which scaleByLr reports as an InvalidOption Left with the step`, () => {
      expect(schedule(3)).toBeNaN();
      const t = scaleByLr(schedule);
      const g = { w: ndarray(new Float32Array([1])) as Leaf };
      const init = t.init(g);
      if (E.isLeft(init)) throw new Error(init.left.message);
      const r = t.update(g, init.right);
      expect(E.isLeft(r) && r.left).toMatchObject({ kind: "InvalidOption", step: 0 });
    });
});
