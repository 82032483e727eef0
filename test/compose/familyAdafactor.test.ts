/**
 * adafactor and adaptiveGradClip against optax 0.2.8 (test/fixtures/optax-family-adafactor.json and
 * optax-family-adaptive-grad-clip.json, scripts/fixtures/gen_optax_family.py): each case replayed step by step, the
 * params after every step and the state optax keeps (the factored row and column statistics, the full second moments,
 * the momentum) or the clipped updates. Tolerance 1e-4 (float32) and 1e-9 (float64) relative to max(1, |ref|).
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adafactor,
  adam,
  adaptiveGradClip,
  applyStep,
  applyUpdates,
  chain,
  encodeState,
  factoredDims,
  scaleByFactoredRms,
  sgd,
  type ChainState,
  type EmaState,
  type GradientTransformation,
  type ScaleByFactoredRmsState,
  type Tree,
} from "larch";
import { caseTree, eachLeaf, leafValues, loadFamily, replayFamily, reportWorst, type TrajectoryCase } from "./family.js";

describe("adafactor against optax.adafactor", () => {
  for (const c of loadFamily<TrajectoryCase>("adafactor"))
    it(c.name, () => {
      const o = c.options!;
      const opt = adafactor({
        lr: o.learning_rate, minDimSizeToFactor: o.min_dim_size_to_factor, decayRate: o.decay_rate, decayOffset: o.decay_offset,
        multiplyByParameterScale: o.multiply_by_parameter_scale, clippingThreshold: o.clipping_threshold, momentum: o.momentum,
        weightDecayRate: o.weight_decay_rate, eps: o.eps, factored: o.factored,
      });
      let factoredLeaves = 0;
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const members = state as ChainState;
        const s = members[0] as ScaleByFactoredRmsState;
        const ref = c.trajectory[t]!.state;
        expect(s.count).toBe(ref[0].count);
        // the same leaves are factored: a full v where optax keeps one, row and column statistics where it keeps those
        for (const n of Object.keys(c.params)) expect(leafValues(s.v, n).length).toBe(ref[0].v[n].length);
        factoredLeaves = Object.keys(c.params).filter((n) => ref[0].v[n].length === 1).length;
        const pairs = [...eachLeaf(c, s.vRow, ref[0].v_row), ...eachLeaf(c, s.vCol, ref[0].v_col), ...eachLeaf(c, s.v, ref[0].v)];
        const average = members.find((m) => (m as { kind?: string }).kind === "ema") as EmaState | undefined;
        const theirs = (ref as any[]).find((m) => m && typeof m === "object" && "ema" in m);
        expect(average === undefined).toBe(theirs === undefined);
        if (average !== undefined) pairs.push(...eachLeaf(c, average.ema, theirs.ema));
        return pairs;
      });
      if (o.min_dim_size_to_factor <= 3) expect(factoredLeaves).toBeGreaterThan(0); // these cases factor some leaves, not all
      if (o.min_dim_size_to_factor <= 3) expect(factoredLeaves).toBeLessThan(Object.keys(c.params).length);
      reportWorst(c, worst);
    });

  it("factors the two largest axes, the later of equal sizes as the larger (NumPy's stable argsort)", () => {
    expect(factoredDims([3, 2, 2, 2], true, 2)).toEqual([3, 0]);
    expect(factoredDims([4, 3], true, 3)).toEqual([1, 0]);
    expect(factoredDims([3, 2, 2, 2], true, 3)).toBeUndefined();
    expect(factoredDims([128, 256], false, 2)).toBeUndefined();
    expect(factoredDims([512], true, 2)).toBeUndefined();
  });

  it("a factored step has the bits of its equations with every mean a plain loop over the values, axis by axis", () => {
    // the reference: for each value i in order, add u² + ε₁ into the index of i with the axis removed, then ÷ its size
    const meanOver = (x: ArrayLike<number>, shape: readonly number[], k: number): Float64Array => {
      const inner = shape.slice(k + 1).reduce((a, b) => a * b, 1);
      const out = new Float64Array(x.length / shape[k]! || 0);
      for (let i = 0; i < x.length; i++) out[Math.floor(i / (inner * shape[k]!)) * inner + (i % inner)]! += x[i]!;
      return out.map((v) => v / shape[k]!);
    };
    const index = (shape: readonly number[], k: number, i: number) => {
      const inner = shape.slice(k + 1).reduce((a, b) => a * b, 1);
      return Math.floor(i / (inner * shape[k]!)) * inner + (i % inner);
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }), fc.constantFrom("float32" as const, "float64" as const), fc.integer(), (shape, dtype, seed) => {
        const of = (xs: ArrayLike<number>) => (dtype === "float32" ? Float32Array.from(xs) : Float64Array.from(xs)); // stored in the dtype
        const [d1, d0] = factoredDims(shape, true, 1)!;
        const n = shape.reduce((a, b) => a * b, 1);
        let x = seed >>> 0;
        const g = of(Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5));
        const step = scaleByFactoredRms({ minDimSizeToFactor: 1, eps: 1e-3 });
        const s0 = step.init({ w: ndarray(of(new Float64Array(n)), shape) as never });
        if (E.isLeft(s0)) throw new Error(s0.left.message);
        const got = step.update({ w: ndarray(g, shape) as never }, s0.right);
        if (E.isLeft(got)) throw new Error(got.left.message);
        const sq = Array.from(g, (v) => v * v + 1e-3);
        const rowShape = shape.filter((_, k) => k !== d0);
        // the first step (t = 1): β̂ = 1 − 1^(−c) = 0, so r = 0·0 + 1·mean = mean, and c likewise
        const row = of(meanOver(sq, shape, d0));
        const col = of(meanOver(sq, shape, d1));
        const rowD1 = d1 > d0 ? d1 - 1 : d1;
        const rowMean = meanOver(row, rowShape, rowD1);
        const rowFactor = of(Array.from(row, (r, k) => 1 / Math.sqrt(r / rowMean[index(rowShape, rowD1, k)]!)));
        const colFactor = of(Array.from(col, (c) => 1 / Math.sqrt(c)));
        const expected = of(Array.from(g, (v, i) => v * rowFactor[index(shape, d0, i)]! * colFactor[index(shape, d1, i)]!));
        expect(Array.from(leafValues(got.right[0], "w"))).toEqual(Array.from(expected));
        expect(Array.from(leafValues(got.right[1].vRow, "w"))).toEqual(Array.from(row));
        expect(Array.from(leafValues(got.right[1].vCol, "w"))).toEqual(Array.from(col));
      }),
      { numRuns: 200 },
    );
  });

  it("keeps m + n numbers for a factored m×n leaf", () => {
    const params = { w: ndarray(new Float32Array(300 * 200), [300, 200]), b: ndarray(new Float32Array(200), [200]) };
    const s = scaleByFactoredRms().init(params);
    if (E.isLeft(s)) throw new Error(s.left.message);
    expect([leafValues(s.right.vRow, "w").length, leafValues(s.right.vCol, "w").length, leafValues(s.right.v, "w").length]).toEqual([200, 300, 1]);
    expect([leafValues(s.right.vRow, "b").length, leafValues(s.right.v, "b").length]).toEqual([1, 200]);
  });

  it("refuses a decay offset beyond the step (optax's NaN), and junk options, as Lefts", () => {
    const params = { w: ndarray(Float64Array.of(1, 2), [2]) };
    const opt = scaleByFactoredRms({ decayOffset: 2 });
    const s = opt.init(params);
    if (E.isLeft(s)) throw new Error(s.left.message);
    const r = opt.update(params, s.right, params);
    expect(E.isLeft(r) && r.left.kind).toBe("InvalidOption");
    for (const bad of [{ decayRate: NaN }, { minDimSizeToFactor: 2.5 }, { eps: -1 }, { momentum: 2 }, { clippingThreshold: 0 }, { lr: -1 }, { factored: "yes" }])
      expect(E.isLeft(adafactor(bad as never).init(params))).toBe(true);
  });
});

/** The larch optimizer for an optax optimizer's spec ({ optax, options }), keyword by keyword. */
const inner = (spec: { optax: string; options: Record<string, any> }): GradientTransformation<any> => {
  const o = spec.options;
  if (spec.optax === "sgd") return sgd({ lr: o.learning_rate, momentum: o.momentum });
  if (spec.optax === "adam") return adam({ lr: o.learning_rate, b1: o.b1, b2: o.b2, eps: o.eps });
  throw new Error(`no larch optimizer for optax.${spec.optax}`);
};

describe("adaptiveGradClip against optax.adaptive_grad_clip", () => {
  for (const c of loadFamily<TrajectoryCase>("adaptive-grad-clip"))
    it(c.name, () => {
      const [clipping, optimizer] = c.optax.members;
      // optax's units are on the last axis of its HWIO / [in, out] arrays; the torch-layout cases gave optax the
      // transposed arrays, so larch's default (axis 0: OIHW / [out, in]) is the same math on the fixture's layout
      const axis = c.optax.layout === "torch" ? 0 : -1;
      const opt = chain(adaptiveGradClip({ clipping: clipping.options.clipping, eps: clipping.options.eps, axis }), inner(optimizer));
      let clipped = 0;
      const worst = replayFamily(c, opt, ({ t, updates }) => {
        const g = c.grads[t]!;
        const lr = optimizer.options.learning_rate;
        // at the first sgd step (no momentum yet) u = −α·g′: count the clipped elements
        if (t === 0 && optimizer.optax === "sgd")
          for (const n of Object.keys(c.params)) {
            const u = c.trajectory[0]!.updates[n]!;
            clipped += u.filter((x: number, i: number) => Math.abs(-lr * g[n]![i]! - x) > 1e-6 * Math.max(1, Math.abs(x))).length;
          }
        return eachLeaf(c, updates, c.trajectory[t]!.updates);
      });
      if (optimizer.optax === "sgd") expect(clipped).toBeGreaterThan(0); // the clipping engages
      reportWorst(c, worst);
    });

  it("takes the output units on the axis it is given, and needs the params", () => {
    const p = { w: ndarray(Float64Array.of(1, 0, 0, 1, 0, 0), [2, 3]) }; // two units of norm 1 along axis 0
    const g = { w: ndarray(Float64Array.of(3, 4, 0, 0.1, 0, 0), [2, 3]) }; // unit 0 norm 5, unit 1 norm 0.1
    const opt = adaptiveGradClip({ clipping: 1 });
    const r = opt.update(g, { kind: "adaptiveGradClip" }, p);
    if (E.isLeft(r)) throw new Error(r.left.message);
    Array.from(leafValues(r.right[0], "w")).forEach((x, i) => expect(x).toBeCloseTo([0.6, 0.8, 0, 0.1, 0, 0][i]!, 14)); // unit 0 scaled to norm 1
    const m = opt.update(g, { kind: "adaptiveGradClip" });
    expect(E.isLeft(m) && m.left.kind).toBe("MissingParams");
    const bad = adaptiveGradClip({ clipping: 1, axis: 5 }).update(g, { kind: "adaptiveGradClip" }, p);
    expect(E.isLeft(bad) && bad.left.path).toBe("w");
  });
});

describe("adafactor and adaptiveGradClip through applyStep", () => {
  const c = loadFamily<TrajectoryCase>("adafactor").find((x) => x.name === "adafactor-momentum-float32")!;
  const bytes = (x: unknown) => E.match((e: { message: string }) => e.message, (b: Uint8Array) => Buffer.from(b).toString("base64"))(encodeState(x));
  for (const [name, make] of [
    ["adafactor", () => adafactor({ lr: 5e-2, minDimSizeToFactor: 3, momentum: 0.9, weightDecayRate: 0.01 })],
    ["adaptiveGradClip", () => chain(adaptiveGradClip({ clipping: 0.05 }), sgd({ lr: 0.1, momentum: 0.9 }))],
  ] as const)
    it(`${name}: applyStep, donated or not, is update then applyUpdates bit for bit`, () => {
      const opt = make();
      const start = caseTree(c, (n) => c.params[n]!.data);
      const s0 = opt.init(start);
      if (E.isLeft(s0)) throw new Error(s0.left.message);
      let [p1, s1, p2, s2] = [start, s0.right as unknown, caseTree(c, (n) => c.params[n]!.data), s0.right as unknown];
      const s2init = opt.init(p2);
      if (E.isLeft(s2init)) throw new Error(s2init.left.message);
      s2 = s2init.right;
      for (let t = 0; t < 4; t++) {
        const g = caseTree(c, (n) => c.grads[t]![n]!);
        const u = opt.update(g, s1 as never, p1);
        if (E.isLeft(u)) throw new Error(u.left.message);
        const next = applyUpdates(p1, u.right[0]);
        if (E.isLeft(next)) throw new Error(next.left.message);
        [p1, s1] = [next.right, u.right[1]];
        const stepped = applyStep(opt, g, s2 as never, p2, { donate: t % 2 === 1 });
        if (E.isLeft(stepped)) throw new Error(stepped.left.message);
        [p2, s2] = stepped.right;
        expect(bytes({ p: p2, s: s2 })).toBe(bytes({ p: p1, s: s1 }));
      }
    });
});
