/**
 * The states of the composed optimizers and wrappers go through a checkpoint (encodeState/decodeStateFor) bit for
 * bit, and resuming from the decoded state takes the same step as going on: hyper-parameters set with
 * setHyperparam included.
 */
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import {
  adam,
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  decodeStateFor,
  encodeState,
  injectHyperparams,
  lamb,
  lars,
  larsOptax,
  larsPaper,
  multiSteps,
  setHyperparam,
  sgd,
  skipNonFinite,
  type GradientTransformation,
} from "larch";
import { gradsOf, paramsOf, treeCase } from "./arbitraries.js";
import { bitsOf, right } from "./bits.js";

const optimizers: Record<string, () => GradientTransformation<any>> = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, nesterov: true }),
  adam: () => adam({ lr: 0.01 }),
  adamw: () => adamw({ lr: 0.01 }),
  lamb: () => lamb({ lr: 0.01, weightDecay: 0.01 }),
  larsOptax: () => larsOptax({ lr: 0.5, weightDecay: 1e-3 }),
  larsPaper: () => larsPaper({ lr: 0.5, weightDecay: 1e-3 }),
  wrapped: () => skipNonFinite(multiSteps(chain(clipByGlobalNorm(1), adam({ lr: 0.01 })), 2)),
  injected: () => injectHyperparams((h) => lars(h), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};

test.prop([treeCase(4), fc.constantFrom(...Object.keys(optimizers)), fc.constantFrom("float32" as const, "float64" as const)], { numRuns: 60 })(
  "a checkpoint restores the state bit for bit, and the run resumes identically",
  (c, name, dt) => {
    const opt = optimizers[name]!();
    let params = paramsOf(c, dt);
    let state = right(opt.init(params));
    for (let t = 0; t < 3; t++) {
      const [u, next] = right(opt.update(gradsOf(c, t, dt), state, params));
      [params, state] = [right(applyUpdates(params, u)), next];
    }
    if (name === "injected") state = right(setHyperparam(state, "lr", 0.05));
    const restored = right(decodeStateFor(right(encodeState(state)), state)).state;
    expect(bitsOf(restored)).toBe(bitsOf(state));
    const [u1, s1] = right(opt.update(gradsOf(c, 3, dt), state, params));
    const [u2, s2] = right(opt.update(gradsOf(c, 3, dt), restored as typeof state, params));
    expect(bitsOf(u2)).toBe(bitsOf(u1));
    expect(bitsOf(s2)).toBe(bitsOf(s1));
    if (name === "injected") expect((restored as { hyperparams: { lr: number } }).hyperparams.lr).toBe(0.05);
  },
);
