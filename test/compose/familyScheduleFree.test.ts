/**
 * scheduleFreeAdamw and scheduleFreeEvalParams against optax 0.2.8's contrib.schedule_free_adamw and
 * schedule_free_eval_params (test/fixtures/optax-family-schedule-free-adamw.json): each step the params (y), the
 * evaluation params (x), z, the averaging records (max lr, weight sum, step count) and the base's ν.
 * Tolerance 1e-4 (float32) and 1e-9 (float64) relative to max(1, |ref|). With warmup_steps optax computes the
 * warm-up rates in float32 even for float64 params (its count is int32): that case is replayed with larch's
 * float64 warm-up (which differs from optax by exactly those roundings, shown) and with optax's float32 rates.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  applyStep,
  applyUpdates,
  chain,
  denseValues,
  scaleByLr,
  scaleByRms,
  scheduleFree,
  scheduleFreeAdamw,
  scheduleFreeEvalParams,
  type ChainState,
  type Leaf,
  type ScaleByRmsState,
  type ScheduleFreeState,
  type Schedule,
  type Tree,
} from "larch";
import { FAMILY_TOLERANCE, caseTree, leafValues, loadFamily, replayFamily, type TrajectoryCase } from "./family.js";

const cases = loadFamily<TrajectoryCase>("schedule-free-adamw");

/** optax's warmup_constant_schedule(0, α, W) at an int32 count, in float32 as JAX computes it even with x64 on. */
const optaxFloat32Warmup = (alpha: number, W: number): Schedule =>
  ((t: number) => {
    const f = Math.fround;
    const frac = f(1 - f(Math.min(Math.max(t, 0), W) / W)); // 1 − clip(t, 0, W) / W
    return f(f(f(0 - alpha) * frac) + f(alpha)); // (init − end)·frac + end
  }) as Schedule;

const replay = (c: TrajectoryCase, lr?: Schedule) => {
  const o = c.options!;
  const opt = scheduleFreeAdamw({
    lr: lr ?? o.learning_rate,
    ...(o.warmup_steps === null || lr !== undefined ? {} : { warmupSteps: o.warmup_steps }),
    b1: o.b1, b2: o.b2, eps: o.eps, weightDecay: o.weight_decay, weightLrPower: o.weight_lr_power,
  });
  const names = Object.keys(c.params);
  return replayFamily(c, opt, ({ t, state, params }) => {
    const s = state as ChainState;
    const rms = s[0] as ScaleByRmsState;
    const sf = s[3] as ScheduleFreeState;
    const ref = c.trajectory[t]!;
    expect([rms.count, sf.count + 1]).toEqual([ref.state.base_optimizer_state[0].count, ref.state.step_count]);
    const x = scheduleFreeEvalParams(state, params);
    if (E.isLeft(x)) throw new Error(x.left.message);
    return [
      [[sf.maxLr, sf.weightSum, sf.b1], [ref.state.max_lr, ref.state.weight_sum, ref.state.b1]],
      ...names.flatMap((n): [ArrayLike<number>, number[]][] => [
        [leafValues(sf.z, n), ref.state.z[n]],
        [leafValues(rms.nu, n), ref.state.base_optimizer_state[0].nu[n]],
        [leafValues(x.right, n), ref.eval_params[n]],
      ]),
    ];
  });
};

describe("scheduleFreeAdamw against optax.contrib.schedule_free_adamw", () => {
  for (const c of cases)
    it(c.name, () => {
      const worst = replay(c);
      const exact = !(c.dtype === "float64" && c.options!.warmup_steps !== null);
      if (exact) expect(worst).toBeLessThanOrEqual(FAMILY_TOLERANCE[c.dtype]);
      else {
        // larch's warm-up rates are float64, optax's the same formula evaluated in float32 (optaxFloat32Warmup gives
        // them bit for bit): they differ by those roundings (relative 1e-7 or less), which the trajectory carries
        expect(worst).toBeGreaterThan(1e-12);
        expect(worst).toBeLessThanOrEqual(1e-6);
        const opt = scheduleFreeAdamw({ lr: c.options!.learning_rate, warmupSteps: c.options!.warmup_steps });
        const sched = opt.hyperparams["members"] as { hyperparams: { lr: unknown } }[];
        expect(sched[2]!.hyperparams.lr).toEqual({ schedule: "polynomialDecay", init: 0, power: 1, totalSteps: 3, end: 0.01 });
        const f32 = optaxFloat32Warmup(0.01, 3);
        c.trajectory.forEach((point, t) => expect(f32(t + 1)).toBe(point.state.max_lr)); // optax reads αₜ at t + 1
        expect(f32(1)).not.toBe(0.01 / 3); // larch's rate at t = 1
      }
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}${exact ? "" : " (larch's float64 warm-up vs optax's float32 one)"}`);
    });

  for (const c of cases.filter((c) => c.dtype === "float64" && c.options!.warmup_steps !== null))
    it(`${c.name}, with optax's float32 warm-up rates as the schedule`, () => {
      const worst = replay(c, optaxFloat32Warmup(c.options!.learning_rate, c.options!.warmup_steps));
      expect(worst).toBeLessThanOrEqual(FAMILY_TOLERANCE.float64);
      console.log(`${c.name} (optax's float32 rates): worst relative error ${worst.toExponential(2)}`);
    });
});

describe("scheduleFreeAdamw through applyStep (one fused pass per leaf)", () => {
  for (const c of cases.filter((c) => c.options!.warmup_steps !== null))
    it(`${c.name}: applyStep, pure and donated, gives update + applyUpdates' bits`, () => {
      const opt = scheduleFreeAdamw({ lr: c.options!.learning_rate, warmupSteps: c.options!.warmup_steps, b1: c.options!.b1, weightDecay: c.options!.weight_decay });
      const names = Object.keys(c.params);
      const start = caseTree(c, (n) => c.params[n]!.data);
      const s0 = opt.init(start);
      if (E.isLeft(s0)) throw new Error(s0.left.message);
      // a: update + applyUpdates; b: applyStep; c: applyStep donating its own copies (params and state)
      const own = opt.init(start);
      if (E.isLeft(own)) throw new Error(own.left.message);
      let pa: Tree = start, pb: Tree = start, pc: Tree = caseTree(c, (n) => c.params[n]!.data);
      let sa: ChainState = s0.right, sb: ChainState = s0.right, sc: ChainState = own.right;
      for (let t = 0; t < 4; t++) {
        const g = caseTree(c, (n) => c.grads[t]![n]!);
        const u = opt.update(g, sa, pa);
        if (E.isLeft(u)) throw new Error(u.left.message);
        const next = applyUpdates(pa, u.right[0]);
        if (E.isLeft(next)) throw new Error(next.left.message);
        [pa, sa] = [next.right, u.right[1]];
        const b = applyStep(opt, g, sb, pb);
        if (E.isLeft(b)) throw new Error(b.left.message);
        [pb, sb] = b.right;
        const d = applyStep(opt, g, sc, pc, { donate: true });
        if (E.isLeft(d)) throw new Error(d.left.message);
        [pc, sc] = d.right;
        for (const n of names) {
          expect(Array.from(leafValues(pb, n))).toEqual(Array.from(leafValues(pa, n)));
          expect(Array.from(leafValues(pc, n))).toEqual(Array.from(leafValues(pa, n)));
          expect(Array.from(leafValues(((sb as ChainState)[3] as ScheduleFreeState).z, n))).toEqual(Array.from(leafValues(((sa as ChainState)[3] as ScheduleFreeState).z, n)));
        }
      }
    });
});

describe("scheduleFree and scheduleFreeEvalParams", () => {
  const leaf = (values: number[]) => ndarray(Float64Array.from(values), [values.length]) as Leaf;
  const right = <A>(x: E.Either<{ message: string }, A>): A => {
    if (E.isLeft(x)) throw new Error(x.left.message);
    return x.right;
  };

  it("z starts at the params (a copy), x = y before any step, and the first step is the base step", () => {
    const params: Tree = { w: leaf([1, -2, 3]) };
    const opt = chain(scaleByLr(0.5), scheduleFree({ lr: 0.5, b1: 0.9 }));
    const s0 = right(opt.init(params));
    const sf = (s0 as ChainState)[1] as ScheduleFreeState;
    expect(Array.from(denseValues((sf.z as { w: Leaf }).w))).toEqual([1, -2, 3]);
    expect((sf.z as { w: Leaf }).w.data).not.toBe((params as { w: Leaf }).w.data);
    expect(Array.from(denseValues((right(scheduleFreeEvalParams(s0, params)) as { w: Leaf }).w))).toEqual([1, -2, 3]);
    // step 1: c = 1, so x′ = z′ = z − 0.5g and y′ = z′: u′ = −0.5g
    const [u] = right(opt.update({ w: leaf([2, 2, -4]) }, s0, params));
    expect(Array.from(denseValues((u as { w: Leaf }).w))).toEqual([-1, -1, 2]);
  });

  it("refuses junk options, a state without a scheduleFree member, and params of another tree", () => {
    for (const bad of [{ lr: 0.1, b1: 0 }, { lr: 0.1, b1: 1.5 }, { lr: -1 }, { lr: 0.1, weightLrPower: NaN }, {}]) {
      const i = scheduleFree(bad as never).init({ w: leaf([1]) });
      expect(E.isLeft(i) && i.left.kind).toBe("InvalidOption");
    }
    for (const bad of [{ warmupSteps: 0 }, { warmupSteps: 1.5 }, { lr: (t: number) => t, warmupSteps: 2 }, { b2: 1 }, { eps: -1 }]) {
      const i = scheduleFreeAdamw(bad as never).init({ w: leaf([1]) });
      expect(E.isLeft(i) && i.left.kind).toBe("InvalidOption");
    }
    const opt = scheduleFreeAdamw();
    const s = right(opt.init({ w: leaf([1, 2]) }));
    expect(E.isLeft(scheduleFreeEvalParams([{ kind: "scaleByLr" }], { w: leaf([1, 2]) }))).toBe(true);
    expect(E.isLeft(scheduleFreeEvalParams(s, { v: leaf([1, 2]) }))).toBe(true);
    expect(E.isLeft(scheduleFreeEvalParams(s, { w: leaf([1]) }))).toBe(true);
    expect(E.isRight(scaleByRms({ decay: 0.5, epsInSqrt: true }).init({ w: leaf([1]) }))).toBe(true);
  });
});
