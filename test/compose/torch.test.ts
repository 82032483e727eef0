/**
 * Parity with torch.optim (PyTorch 1.13): every case of test/fixtures/torch-optim.json (scripts/fixtures/gen_torch_optim.py)
 * replayed through sgd, adam and adamw: params, momentum buffers and Adam's moments after every step.
 */
import { describe, expect, it } from "vitest";
import { adam, adamw, sgd, type ChainState, type GradientTransformation, type ScaleByAdamState, type TraceMomentumState } from "larch";
import { loadFixture, replay, TOLERANCE, valuesAt, type FixtureCase, type StateProbe } from "./replay.js";

const optimizerFor = (c: FixtureCase): [GradientTransformation<any>, Record<string, StateProbe>] => {
  const o = c.options;
  const [b1, b2] = (o.betas as [number, number] | undefined) ?? [undefined, undefined];
  switch (c.optimizer) {
    case "sgd": {
      const opt = sgd({ lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weight_decay, nesterov: o.nesterov });
      const momentum = (s: unknown, _u: unknown, n: string) => {
        const trace = ((s as ChainState)[1] as TraceMomentumState).trace;
        return trace === null ? undefined : valuesAt(trace, n);
      };
      return [opt, (o.momentum ?? 0) > 0 ? { momentum_buffer: momentum } : {}];
    }
    case "adam":
    case "adamw": {
      const make = c.optimizer === "adam" ? adam : adamw;
      const opt = make({ lr: o.lr, b1, b2, eps: o.eps, weightDecay: o.weight_decay });
      const adamState = (s: unknown) => (s as ChainState)[c.optimizer === "adam" ? 1 : 0] as ScaleByAdamState;
      return [
        opt,
        {
          exp_avg: (s, _u, n) => valuesAt(adamState(s).mu, n),
          exp_avg_sq: (s, _u, n) => valuesAt(adamState(s).nu, n),
          step: (s) => [adamState(s).count], // torch counts per leaf, larch once per scaleByAdam: the same t
        },
      ];
    }
    default:
      throw new Error(`unknown optimizer ${c.optimizer}`);
  }
};

describe("parity with torch.optim (PyTorch 1.13)", () => {
  for (const c of loadFixture("torch-optim.json")) {
    it(c.name, () => {
      const [opt, probes] = optimizerFor(c);
      const worst = replay(c, opt, probes);
      expect(worst).toBeLessThanOrEqual(TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
    });
  }
});
