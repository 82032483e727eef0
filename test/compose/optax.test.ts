/**
 * Parity with optax 0.2.8 (JAX 0.10.2): every case of test/fixtures/optax-lars.json and optax-lamb.json
 * (scripts/fixtures/gen_optax.py) replayed through larsOptax and lamb: params, optax's momentum trace and Adam's
 * moments after every step. Float32 cases ran in JAX with x64 off, float64 with x64 on.
 */
import { describe, expect, it } from "vitest";
import { lamb, larsOptax, type ChainState, type ScaleByAdamState, type TraceMomentumState } from "larch";
import { loadFixture, replay, TOLERANCE, valuesAt } from "./replay.js";

describe("parity with optax.lars", () => {
  for (const c of loadFixture("optax-lars.json")) {
    it(c.name, () => {
      const o = c.options;
      expect([o.weight_decay_mask, o.trust_ratio_mask]).toEqual([true, true]); // the masks larsOptax implements
      const opt = larsOptax({
        lr: o.learning_rate,
        weightDecay: o.weight_decay,
        trustCoefficient: o.trust_coefficient,
        eps: o.eps,
        momentum: o.momentum,
        nesterov: o.nesterov,
      });
      const worst = replay(c, opt, {
        // optax keeps a trace even with momentum 0, where it is the step's update; larch keeps none then
        trace: (s, updates, n) => {
          const trace = ((s as ChainState)[3] as TraceMomentumState).trace;
          return valuesAt(trace ?? updates, n);
        },
      });
      expect(worst).toBeLessThanOrEqual(TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
    });
  }
});

describe("parity with optax.lamb", () => {
  for (const c of loadFixture("optax-lamb.json")) {
    it(c.name, () => {
      const o = c.options;
      expect([o.eps_root, o.mask]).toEqual([0, null]); // the options lamb implements
      const opt = lamb({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps, weightDecay: o.weight_decay });
      const adamState = (s: unknown) => (s as ChainState)[0] as ScaleByAdamState;
      const worst = replay(c, opt, {
        mu: (s, _u, n) => valuesAt(adamState(s).mu, n),
        nu: (s, _u, n) => valuesAt(adamState(s).nu, n),
      });
      expect(worst).toBeLessThanOrEqual(TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
    });
  }
});
