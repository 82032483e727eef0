/**
 * The wrappers of issue 14 against optax 0.2.8 (test/fixtures/optax-family-*.json, scripts/fixtures/gen_optax_family.py):
 * applyEvery (optax.apply_every), skipLargeUpdates (optax.MultiSteps with optax.skip_large_updates) and lookahead
 * (optax.lookahead), each around optax.sgd with momentum and optax.adam, replayed step by step: the params after
 * every step and the wrapper's own state (the accumulated updates, the squared norm, the slow weights) against optax's.
 * Tolerance 1e-4 (float32) and 1e-9 (float64) relative to max(1, |ref|).
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adam,
  applyEvery,
  applyUpdates,
  chain,
  clip,
  ema,
  scaleByLr,
  lookahead,
  lookaheadSlowParams,
  sgd,
  skipLargeUpdates,
  zeroNans,
  type ApplyEveryState,
  type ChainState,
  type EmaState,
  type ZeroNansState,
  type GradientTransformation,
  type LookaheadState,
  type SkipLargeUpdatesState,
  type Tree,
} from "larch";
import { eachLeaf, loadFamily, replayFamily, reportWorst, type TrajectoryCase } from "./family.js";

/** The larch optimizer for an optax optimizer's spec ({ optax, options }), keyword by keyword. */
const inner = (spec: { optax: string; options: Record<string, any> }): GradientTransformation<any> => {
  const o = spec.options;
  if (spec.optax === "sgd") return sgd({ lr: o.learning_rate, momentum: o.momentum });
  if (spec.optax === "adam") return adam({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps });
  throw new Error(`no larch optimizer for optax.${spec.optax}`);
};


describe("applyEvery against optax.apply_every", () => {
  for (const c of loadFamily<TrajectoryCase>("apply-every"))
    it(c.name, () => {
      const [optimizer, every] = c.optax.members;
      expect(every.optax).toBe("apply_every");
      const opt = chain(inner(optimizer), applyEvery(every.options.k));
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[1] as ApplyEveryState;
        expect(s.count).toBe(t + 1);
        return eachLeaf(c, s.acc, c.trajectory[t]!.state[1].grad_acc);
      });
      reportWorst(c, worst);
    });
});

describe("skipLargeUpdates against optax.MultiSteps(…, should_skip_update_fn=skip_large_updates)", () => {
  for (const c of loadFamily<TrajectoryCase>("skip-large-updates"))
    it(c.name, () => {
      const maxSquaredNorm = c.optax.options.max_squared_norm;
      const opt = skipLargeUpdates(inner(c.optax.inner), maxSquaredNorm);
      let skipped = 0;
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = state as SkipLargeUpdatesState;
        const ref = c.trajectory[t]!.state.skip_state;
        // the same decision, with a margin: optax's float32 norm and larch's float64 one are not the same number
        expect(Math.abs(ref.norm_squared - maxSquaredNorm) / maxSquaredNorm).toBeGreaterThan(1e-4);
        expect(s.skipped - skipped).toBe(ref.should_skip ? 1 : 0);
        skipped = s.skipped;
        return [[[s.normSquared], [ref.norm_squared]]];
      });
      expect(skipped).toBeGreaterThan(0); // the case skips some steps and takes others
      expect(skipped).toBeLessThan(c.steps);
      reportWorst(c, worst);
    });

  it("skips a step whose gradient holds a NaN, keeping the params and the inner state", () => {
    const params = { w: ndarray(Float64Array.of(1, 2), [2]) };
    const opt = skipLargeUpdates(sgd({ lr: 0.1, momentum: 0.9 }), 1e6);
    const s0 = opt.init(params);
    if (E.isLeft(s0)) throw new Error(s0.left.message);
    const step = opt.update({ w: ndarray(Float64Array.of(NaN, 1), [2]) }, s0.right, params);
    if (E.isLeft(step)) throw new Error(step.left.message);
    const after = applyUpdates(params, step.right[0]);
    expect(E.isRight(after) && Array.from(after.right && (after.right as unknown as { w: { data: Float64Array } }).w.data)).toEqual([1, 2]);
    expect(step.right[1]).toMatchObject({ skipped: 1, count: 1, inner: s0.right.inner });
  });
});

describe("lookahead against optax.lookahead", () => {
  for (const c of loadFamily<TrajectoryCase>("lookahead"))
    it(c.name, () => {
      const o = c.optax.options;
      const opt = lookahead(inner(c.optax.inner), { syncPeriod: o.sync_period, slowStepSize: o.slow_step_size, resetState: o.reset_state });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const slow = lookaheadSlowParams(state);
        if (E.isLeft(slow)) throw new Error(slow.left.message);
        expect((state as LookaheadState).count).toBe(t + 1);
        return eachLeaf(c, slow.right, c.trajectory[t]!.slow);
      });
      reportWorst(c, worst);
    });

  it("needs the params, and refuses bad options", () => {
    const params = { w: ndarray(Float64Array.of(1, 2), [2]) };
    const opt = lookahead(sgd({ lr: 0.1 }), { syncPeriod: 2, slowStepSize: 0.5 });
    const s0 = opt.init(params);
    if (E.isLeft(s0)) throw new Error(s0.left.message);
    const r = opt.update(params, s0.right);
    expect(E.isLeft(r) && r.left.kind).toBe("MissingParams");
    for (const bad of [{ syncPeriod: 0, slowStepSize: 0.5 }, { syncPeriod: 2, slowStepSize: 1.5 }, { syncPeriod: 2.5, slowStepSize: 0.5 }])
      expect(E.isLeft(lookahead(sgd({ lr: 0.1 }), bad).init(params))).toBe(true);
  });
});

describe("ema against optax.ema", () => {
  for (const c of loadFamily<TrajectoryCase>("ema"))
    it(c.name, () => {
      const [average, lr] = c.optax.members;
      const opt = chain(ema({ decay: average.options.decay, debias: average.options.debias }), scaleByLr(lr.options.learning_rate));
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as EmaState;
        expect(s.count).toBe(c.trajectory[t]!.state[0].count);
        return eachLeaf(c, s.ema, c.trajectory[t]!.state[0].ema);
      });
      reportWorst(c, worst);
    });
});

describe("clip against optax.clip", () => {
  for (const c of loadFamily<TrajectoryCase>("clip"))
    it(c.name, () => {
      const [clipping, optimizer] = c.optax.members;
      const opt = chain(clip(clipping.options.max_delta), inner(optimizer));
      reportWorst(c, replayFamily(c, opt, ({ t, updates }) => eachLeaf(c, updates, c.trajectory[t]!.updates)));
    });
});

describe("zeroNans against optax.zero_nans", () => {
  for (const c of loadFamily<TrajectoryCase>("zero-nans"))
    it(c.name, () => {
      const [, optimizer] = c.optax.members;
      const opt = chain(zeroNans(), inner(optimizer));
      let nans = 0;
      const worst = replayFamily(c, opt, ({ t, state, updates }) => {
        const s = (state as ChainState)[0] as ZeroNansState;
        expect(s.foundNan).toEqual(c.trajectory[t]!.state[0].found_nan);
        nans += Object.values(s.foundNan).filter(Boolean).length;
        return eachLeaf(c, updates, c.trajectory[t]!.updates);
      });
      expect(nans).toBeGreaterThan(0); // the case's gradients hold NaNs
      reportWorst(c, worst);
    });
});
