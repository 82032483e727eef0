/**
 * The optimizers of issue 14 against optax 0.2.8 (test/fixtures/optax-family-*.json, scripts/fixtures/gen_optax_family.py):
 * each case replayed step by step through larch's chain, the params and the chain's state (the moments optax keeps)
 * after every step. Tolerance 1e-4 (float32) and 1e-9 (float64) relative to max(1, |ref|).
 */
import { describe, expect, it } from "vitest";
import {
  adabelief,
  adan,
  ademamix,
  lion,
  nadamw,
  radam,
  type ChainState,
  type ScaleByAdanState,
  type ScaleByAdemamixState,
  type ScaleByBeliefState,
  type ScaleByLionState,
  type ScaleByNadamState,
  type ScaleByRadamState,
  type Tree,
} from "larch";
import { eachLeaf, loadFamily, replayFamily, reportWorst, type TrajectoryCase } from "./family.js";

describe("lion against optax.lion", () => {
  for (const c of loadFamily<TrajectoryCase>("lion"))
    it(c.name, () => {
      const o = c.options!;
      const opt = lion({ lr: o.learning_rate, b1: o.b1, b2: o.b2, weightDecay: o.weight_decay });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByLionState;
        const ref = c.trajectory[t]!.state[0];
        expect(s.count).toBe(ref.count);
        return eachLeaf(c, s.mu, ref.mu);
      });
      reportWorst(c, worst);
    });
});

describe("adabelief against optax.adabelief", () => {
  for (const c of loadFamily<TrajectoryCase>("adabelief"))
    it(c.name, () => {
      const o = c.options!;
      const opt = adabelief({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.eps_root, nesterov: o.nesterov });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByBeliefState;
        const ref = c.trajectory[t]!.state[0];
        expect(s.count).toBe(ref.count);
        return [...eachLeaf(c, s.mu, ref.mu), ...eachLeaf(c, s.nu, ref.nu)];
      });
      reportWorst(c, worst);
    });
});

describe("nadamw against optax.nadamw", () => {
  for (const c of loadFamily<TrajectoryCase>("nadamw"))
    it(c.name, () => {
      const o = c.options!;
      const opt = nadamw({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.eps_root, weightDecay: o.weight_decay, nesterov: o.nesterov });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByNadamState;
        const ref = c.trajectory[t]!.state[0];
        expect(s.count).toBe(ref.count);
        return [...eachLeaf(c, s.mu, ref.mu), ...eachLeaf(c, s.nu, ref.nu)];
      });
      reportWorst(c, worst);
    });
});

describe("radam against optax.radam", () => {
  for (const c of loadFamily<TrajectoryCase>("radam"))
    it(c.name, () => {
      const o = c.options!;
      const opt = radam({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps, epsRoot: o.eps_root, threshold: o.threshold, nesterov: o.nesterov });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByRadamState;
        const ref = c.trajectory[t]!.state[0];
        expect(s.count).toBe(ref.count);
        return [...eachLeaf(c, s.mu, ref.mu), ...eachLeaf(c, s.nu, ref.nu)];
      });
      reportWorst(c, worst);
    });
});

describe("adan against optax.adan", () => {
  for (const c of loadFamily<TrajectoryCase>("adan"))
    it(c.name, () => {
      const o = c.options!;
      const opt = adan({ lr: o.learning_rate, b1: o.b1, b2: o.b2, b3: o.b3, eps: o.eps, epsRoot: o.eps_root, weightDecay: o.weight_decay });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByAdanState;
        const ref = c.trajectory[t]!.state[0];
        expect(s.count).toBe(ref.t);
        return [...eachLeaf(c, s.m, ref.m), ...eachLeaf(c, s.v, ref.v), ...eachLeaf(c, s.n, ref.n), ...eachLeaf(c, s.prev, ref.g)];
      });
      reportWorst(c, worst);
    });
});

describe("ademamix against optax.contrib.ademamix", () => {
  for (const c of loadFamily<TrajectoryCase>("ademamix"))
    it(c.name, () => {
      const o = c.options!;
      const opt = ademamix({ lr: o.learning_rate, b1: o.b1, b2: o.b2, b3: o.b3, alpha: o.alpha, eps: o.eps, epsRoot: o.eps_root, weightDecay: o.weight_decay });
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const s = (state as ChainState)[0] as ScaleByAdemamixState;
        const ref = c.trajectory[t]!.state[0];
        expect([s.count, s.count]).toEqual([ref.count, ref.count_m2]);
        return [...eachLeaf(c, s.m1, ref.m1), ...eachLeaf(c, s.m2, ref.m2), ...eachLeaf(c, s.nu, ref.nu)];
      });
      reportWorst(c, worst);
    });
});
