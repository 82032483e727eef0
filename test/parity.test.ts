/**
 * Parity with the seed: every case of ../shared/fixtures/lars-reference.json (PyTorch 1.13 running Holocron's LARS)
 * replayed through the public API, params and momentum buffers compared after every step; and the same run through
 * applyStep (for float32 lars(), its WebAssembly kernel), which must give the same bits as update + applyUpdates.
 */
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  applyStep,
  applyUpdates,
  denseValues,
  lars,
  partition,
  polynomialDecay,
  type ChainState,
  type GradientTransformation,
  type LabelTree,
  type Leaf,
  type PartitionState,
  type TraceMomentumState,
  type Tree,
} from "larch";
import { bitsOf } from "./compose/bits.js";
import { at, larsOptions, loadReference, makeLeaf, nest, type RefCase } from "./support/reference.js";

const TOLERANCE = { float32: 1e-4, float64: 1e-12 } as const;

/** max over elements of |x − ref| / max(1, |ref|) */
const relError = (actual: ArrayLike<number>, expected: readonly number[]): number => {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
};

const optimizerFor = (c: RefCase): GradientTransformation<any> => {
  const lr = c.schedule
    ? polynomialDecay({ init: c.options.lr, power: c.schedule.power, totalSteps: c.schedule.total_steps })
    : c.options.lr;
  if (!c.groups) return lars({ ...larsOptions({}, c.options), lr });
  const labelOf = new Map(c.groups.flatMap((g, k) => g.leaves.map((leaf) => [leaf, `group${k}`] as const)));
  const transforms = Object.fromEntries(c.groups.map((g, k) => [`group${k}`, lars({ ...larsOptions(g.options, c.options), lr })]));
  return partition(transforms, nest(Object.fromEntries(Object.keys(c.params).map((n) => [n, labelOf.get(n)!]))) as unknown as LabelTree);
};

/** The momentum buffer of a leaf, wherever the optimizer keeps it. */
const momentumOf = (c: RefCase, state: unknown, name: string): Leaf | null => {
  const trace = (s: ChainState): Tree | null => (s[1] as TraceMomentumState).trace;
  if (!c.groups) {
    const t = trace(state as ChainState);
    return t === null ? null : at(t, name);
  }
  const k = c.groups.findIndex((g) => g.leaves.includes(name));
  const t = trace((state as PartitionState).inner[`group${k}`] as ChainState);
  return t === null ? null : (t as Record<string, Leaf>)[name]!;
};

const gradsAt = (c: RefCase, step: number, params: Tree): Tree => {
  const leaves: Record<string, Leaf> = {};
  for (const name of Object.keys(c.params)) {
    const shape = c.params[name]!.shape;
    if (c.source === "replay") leaves[name] = makeLeaf(c.dtype, shape, c.grads![step]![name]!);
    else {
      // closed loop: g = scale ⊙ (p − target), computed in float64 and stored in the case's dtype
      const p = denseValues(at(params, name));
      const scale = c.quadratic!.scale[name]!.data;
      const target = c.quadratic!.target[name]!.data;
      leaves[name] = makeLeaf(c.dtype, shape, Array.from(p, (v, i) => scale[i]! * (v - target[i]!)));
    }
  }
  return nest(leaves);
};


describe("parity with the seed (PyTorch 1.13)", () => {
  for (const c of loadReference()) {
    it(c.name, () => {
      const opt = optimizerFor(c);
      let params = nest(Object.fromEntries(Object.entries(c.params).map(([n, l]) => [n, makeLeaf(c.dtype, l.shape, l.data)])));
      const init = opt.init(params);
      if (E.isLeft(init)) throw new Error(init.left.message);
      let state = init.right;
      // the same run through applyStep (lars()'s compiled kernel for float32 trees), which must give the same bits
      let [stepped, steppedState] = [params, state];
      let worst = 0;
      for (let t = 0; t < c.steps; t++) {
        const step = opt.update(gradsAt(c, t, params), state, params);
        if (E.isLeft(step)) throw new Error(step.left.message);
        const next = applyUpdates(params, step.right[0]);
        if (E.isLeft(next)) throw new Error(next.left.message);
        [params, state] = [next.right, step.right[1]];
        const whole = applyStep(opt, gradsAt(c, t, stepped), steppedState, stepped);
        if (E.isLeft(whole)) throw new Error(whole.left.message);
        [stepped, steppedState] = whole.right;
        expect(bitsOf(stepped)).toBe(bitsOf(params));
        expect(bitsOf(steppedState)).toBe(bitsOf(state));
        const ref = c.trajectory[t]!;
        for (const name of Object.keys(c.params)) {
          worst = Math.max(worst, relError(denseValues(at(params, name)), ref.params[name]!));
          const buf = momentumOf(c, state, name);
          if (ref.momentum[name] === undefined) expect(buf).toBeNull();
          else worst = Math.max(worst, relError(denseValues(buf!), ref.momentum[name]!));
        }
      }
      expect(worst).toBeLessThanOrEqual(TOLERANCE[c.dtype]);
      console.log(`${c.name} (${c.dtype}): worst relative error ${worst.toExponential(2)}`);
    });
  }
});
