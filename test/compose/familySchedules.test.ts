/**
 * The schedules of issue 14 against optax 0.2.8 (test/fixtures/optax-family-schedules.json, written by
 * scripts/fixtures/gen_optax_family.py): every value at steps 0–39. optax computed the float64 cases with JAX's x64
 * on (float64 arithmetic throughout) and the float32 cases with it off (float32 arithmetic); larch computes in
 * float64, so the float32 cases bound the float32 rounding of optax's own computation. Each schedule is also rebuilt
 * from its description, through JSON, with the same values; invalid options give NaN, which scaleByLr refuses.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  cosineDecay,
  describeValue,
  exponentialDecay,
  joinSchedules,
  oneCycle,
  polynomialDecay,
  rebuildOptimizer,
  scaleByLr,
  sgdr,
  specOf,
  warmupCosineDecay,
  type Leaf,
  type Schedule,
  type WarmupCosineDecayOptions,
} from "larch";
import { loadFamily } from "./family.js";

interface Spec {
  readonly optax: string;
  readonly options: Record<string, any>;
}
interface ScheduleCase {
  readonly name: string;
  readonly dtype: "float32" | "float64";
  readonly optax: Spec;
  readonly values: number[];
}

/** optax's warmup_cosine_decay_schedule keywords as larch's options. */
const warmupCosine = (o: Record<string, any>): WarmupCosineDecayOptions => ({
  init: o.init_value,
  peak: o.peak_value,
  warmupSteps: o.warmup_steps,
  decaySteps: o.decay_steps,
  ...(o.end_value !== undefined ? { end: o.end_value } : {}),
  ...(o.exponent !== undefined ? { exponent: o.exponent } : {}),
});

/** The larch schedule (or constant) for an optax schedule's call, keyword by keyword. */
const larchSchedule = ({ optax, options: o }: Spec): Schedule | number => {
  switch (optax) {
    case "constant_schedule":
      return o.value;
    case "polynomial_schedule":
      return polynomialDecay({ init: o.init_value, end: o.end_value, power: o.power, totalSteps: o.transition_steps });
    case "cosine_decay_schedule":
      return cosineDecay({ init: o.init_value, decaySteps: o.decay_steps, alpha: o.alpha });
    case "exponential_decay":
      return exponentialDecay({
        init: o.init_value,
        transitionSteps: o.transition_steps,
        decayRate: o.decay_rate,
        ...(o.transition_begin !== undefined ? { transitionBegin: o.transition_begin } : {}),
        ...(o.staircase !== undefined ? { staircase: o.staircase } : {}),
        ...(o.end_value !== undefined && o.end_value !== null ? { end: o.end_value } : {}),
      });
    case "warmup_cosine_decay_schedule":
      return warmupCosineDecay(warmupCosine(o));
    case "sgdr_schedule":
      return sgdr(o.cosine_kwargs.map(warmupCosine));
    case "cosine_onecycle_schedule":
    case "linear_onecycle_schedule":
      return oneCycle({
        anneal: optax.startsWith("cosine") ? "cosine" : "linear",
        transitionSteps: o.transition_steps,
        peak: o.peak_value,
        ...(o.pct_start !== undefined ? { pctStart: o.pct_start } : {}),
        ...(o.pct_final !== undefined ? { pctFinal: o.pct_final } : {}),
        ...(o.div_factor !== undefined ? { divFactor: o.div_factor } : {}),
        ...(o.final_div_factor !== undefined ? { finalDivFactor: o.final_div_factor } : {}),
      });
    case "join_schedules":
      return joinSchedules({ schedules: o.schedules.map(larchSchedule), boundaries: o.boundaries });
    default:
      throw new Error(`no larch schedule for optax.${optax}`);
  }
};

/** |x − ref| / |ref| (relative to the case's largest value where ref = 0). */
const relative = (x: number, ref: number, scale: number): number => Math.abs(x - ref) / (ref === 0 ? scale : Math.abs(ref));

// relative to |ref| itself (stricter than the max(1, |ref|) for values below 1): optax's float32 cases carry its float32 rounding
const TOLERANCE = { float32: 1e-5, float64: 1e-9 } as const;
const cases = loadFamily<ScheduleCase>("schedules");

describe("schedules against optax", () => {
  it("the fixture holds every schedule of issue 14 in both dtypes", () => {
    const names = new Set(cases.map((c) => c.optax.optax));
    for (const n of ["exponential_decay", "warmup_cosine_decay_schedule", "sgdr_schedule", "cosine_onecycle_schedule", "linear_onecycle_schedule", "join_schedules"])
      expect(names.has(n)).toBe(true);
    expect(cases.filter((c) => c.dtype === "float32").length).toBe(cases.filter((c) => c.dtype === "float64").length);
  });

  for (const c of cases)
    it(c.name, () => {
      const lr = larchSchedule(c.optax);
      const at = (t: number) => (typeof lr === "number" ? lr : lr(t));
      const scale = Math.max(...c.values.map(Math.abs));
      let worst = 0;
      c.values.forEach((ref, t) => (worst = Math.max(worst, relative(at(t), ref, scale))));
      expect(worst).toBeLessThanOrEqual(TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
      // rebuilt from its description, through JSON, as a recording keeps it
      if (typeof lr === "number") return;
      const recorded = JSON.parse(JSON.stringify(specOf(scaleByLr(lr))));
      const rebuilt = rebuildOptimizer(recorded);
      if (E.isLeft(rebuilt)) throw new Error(rebuilt.left.message);
      expect(specOf(rebuilt.right)).toEqual(recorded);
      const rebuiltLr = (rebuilt.right.hyperparams as { lr: unknown }).lr;
      expect(rebuiltLr).toEqual(describeValue(lr));
    });
});

describe("invalid options of the new schedules", () => {
  it("oneCycle with an unknown anneal: a refused schedule, which scaleByLr returns at init", () => {
    const schedule = oneCycle({ transitionSteps: 10, peak: 0.1, anneal: "cubic" as "linear" });
    expect(schedule(3)).toBeNaN();
    const init = scaleByLr(schedule).init({ w: ndarray(new Float32Array([1])) as Leaf });
    expect(E.isLeft(init) && init.left).toMatchObject({ kind: "InvalidOption", message: 'oneCycle: option anneal must be one of "cosine", "linear", not "cubic"' });
  });

  it("joinSchedules restarts each schedule at its boundary, and takes constants", () => {
    const decay = cosineDecay({ init: 1, decaySteps: 10 });
    const lr = joinSchedules({ schedules: [0.5, decay, 0.01], boundaries: [3, 8] });
    expect([lr(0), lr(2), lr(3), lr(5), lr(8), lr(100)]).toEqual([0.5, 0.5, decay(0), decay(2), 0.01, 0.01]);
  });
});
