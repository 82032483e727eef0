/**
 * The generated WebAssembly against the generated JavaScript and the unfused chain, bit for bit: random bodies over
 * every operation of the expression form with NaN, ±0, ±Inf and subnormals (the generator alone), and random chains
 * of the library's pieces and of a user's defineElementwise body over random trees (float32 and float64, strided
 * views, odd and empty leaves), plain or in kernel memory, donated or not (applyStep), and `update` then
 * `applyUpdates` through the installed executor (with or without params, the update the gradient or not).
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adafactor,
  addWeightDecay,
  applyStep,
  applyUpdates,
  chain,
  chainUnfused,
  defineElementwise,
  denseValues,
  dtypeOf,
  flatten,
  isLeaf,
  kernelThreads,
  kernelTree,
  scaleByAdam,
  scaleByLr,
  scaleByTrustRatio,
  sgd,
  traceMomentum,
  sumOfSquares,
  type Body,
  type Expr,
  type GradientTransformation,
  type Tree,
} from "larch";
import { leafLoop } from "../../src/core/compileJs.js";
import { leavesOf } from "../../src/core/donation.js";
import { installCompiledMath, withoutCompiledMath } from "../../src/core/executor.js";
import { everyStepCompiled } from "../support/executor.js";
import { applyStepWith } from "../../src/core/step.js";
import { compiledMinValues, compiledPass } from "../../src/kernels/compiledStep.js";
import { passLayout } from "../../src/kernels/compileWasm.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import { bitsOf as bytesOf, right } from "../compose/bits.js";
import { makeTree, treeSpecArb, type TreeSpec } from "../support/trees.js";
import { keepParams, libraryPieceArb, mixedPieceArb, type Piece } from "../support/pieces.js";

const jsStep = applyStepWith(undefined);

/** A random expression over u, g, p, two old states, the new states before `assigned`, three scalars. */
const exprArb = (assigned: number): fc.Arbitrary<Expr> =>
  fc.letrec<{ e: Expr }>((tie) => ({
    e: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constantFrom<Expr>({ k: "u" }, { k: "g" }, { k: "p" }, { k: "old", state: 0 }, { k: "old", state: 1 }, ...(assigned > 0 ? [{ k: "new", state: 0 } as Expr] : []), ...(assigned > 1 ? [{ k: "new", state: 1 } as Expr] : [])),
      fc.integer({ min: 0, max: 2 }).map((slot): Expr => ({ k: "scalar", slot })),
      fc.constantFrom(0, -0, 1, -1, 0.5, 1e-8, 3).map((value): Expr => ({ k: "num", value })),
      fc.record({ op: fc.constantFrom("+", "-", "*", "/" as const), a: tie("e"), b: tie("e") }).map((x): Expr => ({ k: "bin", ...x })),
      fc.record({ f: fc.constantFrom("sqrt", "abs", "sign", "neg" as const), a: tie("e") }).map(({ f, a }): Expr => ({ k: "call", f, args: [a] })),
      fc.record({ f: fc.constantFrom("min", "max" as const), a: tie("e"), b: tie("e") }).map(({ f, a, b }): Expr => ({ k: "call", f, args: [a, b] })),
      fc
        .record({ op: fc.constantFrom("<", "<=", ">", ">=", "==", "!=" as const), l: tie("e"), r: tie("e"), a: tie("e"), b: tie("e") })
        .map((x): Expr => ({ k: "select", ...x })),
    ),
  })).e;

const bodyArb: fc.Arbitrary<Body> = fc
  .tuple(exprArb(0), exprArb(1), exprArb(2))
  .map(([a, b, out]) => ({ states: ["a", "b"], scalars: ["s0", "s1", "s2"], next: [a, b], out, readsParams: true }));

/** Float32 values with NaN, ±0, ±Inf and subnormals among them. */
const valuesArb = (n: number) => fc.array(fc.float(), { minLength: n, maxLength: n });
const same = (x: ArrayLike<number>, y: ArrayLike<number>) =>
  Array.from(x).every((v, i) => Object.is(v, y[i]) || (Number.isNaN(v) && Number.isNaN(y[i]!)));

describe("generated WebAssembly: the bits of the generated JavaScript", () => {
  it("random bodies over every operation, special values, 0–13 values, update and apply, checking or not", () => {
    const a = kernelArena()!;
    fc.assert(
      fc.property(
        fc.array(bodyArb, { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 0, max: 13 }),
        fc.constantFrom<"update" | "apply">("update", "apply"),
        fc.array(fc.double(), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 0, max: 1e9 }),
        fc.boolean(),
        (bodies, n, mode, scalars, seed, checks) => {
          const rand = fc.sample(valuesArb(n), { numRuns: 7, seed });
          const arrays = (k: number) => Float32Array.from(rand[k]!);
          const [u, g, p] = [arrays(0), arrays(1), arrays(2)];
          const olds = bodies.map((_, m) => [arrays(3 + 2 * m), arrays(4 + 2 * m)]);
          const bindings = bodies.map((_, m) => ({
            scalars: scalars.slice(3 * m, 3 * m + 3),
            arrays: [olds[m]![0]!, new Float32Array(n), olds[m]![1]!, new Float32Array(n)],
          }));
          const out = new Float32Array(n);
          leafLoop(bodies, "float32", mode)(mode === "apply" ? g : u, g, p, out, bindings, 0, n);
          // the same in kernel memory
          const pass = compiledPass(a, bodies, mode, checks)!;
          const layout = passLayout(bodies);
          const region = a.allocate(layout.recordBytes + 16 * (4 + 4 * bodies.length) * Math.max(1, n) + 16)!;
          try {
            const heap = new Float32Array(a.buffer());
            let at = region.at + layout.recordBytes;
            const place = (x: Float32Array) => {
              heap.set(x, at / 4);
              const here = at;
              at += 16 * Math.ceil((4 * x.length + 1) / 16);
              return here;
            };
            const zeros = () => new Float32Array(n);
            const ptrs = [place(mode === "apply" ? g : u), place(g), place(p), place(zeros()), ...olds.flatMap(([o0, o1]) => [place(o0!), place(zeros()), place(o1!), place(zeros())])];
            new Int32Array(a.buffer(), region.at, ptrs.length).set(ptrs);
            new Float64Array(a.buffer(), region.at + layout.scalarsAt, layout.scalars).set(bindings.flatMap((b) => b.scalars));
            const flag = at;
            new Int32Array(a.buffer(), flag, 1)[0] = -1;
            pass.pass(region.at, 0, n, checks ? flag : 0);
            const got = (k: number) => new Float32Array(a.buffer(), ptrs[k]!, n);
            expect(same(got(3), out)).toBe(true);
            // a checking pass flags a NaN or ±Inf in the u it read or in p; another writes no flag
            const finite = [...(mode === "apply" ? g : u), ...p].every(Number.isFinite);
            expect(new Int32Array(a.buffer(), flag, 1)[0]).toBe(checks ? (finite ? 0 : 1) : -1);
            bodies.forEach((_, m) => {
              expect(same(got(5 + 4 * m), bindings[m]!.arrays[1]!)).toBe(true);
              expect(same(got(7 + 4 * m), bindings[m]!.arrays[3]!)).toBe(true);
            });
          } finally {
            a.release(region);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("sumsq and sumsq2 (two arrays in one loop) give sumOfSquares' bits, 0–41 values, special values, unaligned", () => {
    const a = kernelArena()!;
    const pass = compiledPass(a, [{ states: [], scalars: [], next: [], out: { k: "u" }, readsParams: false }], "update")!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 41 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 1e9 }), (n, shift, special, seed) => {
        const arb = special ? fc.float() : fc.float({ min: -1e3, max: 1e3, noNaN: true });
        const [x, y] = fc.sample(fc.array(arb, { minLength: n, maxLength: n }), { numRuns: 2, seed }).map((v) => Float32Array.from(v));
        const region = a.allocate(16 + 8 * (n + 4) + 32)!;
        try {
          const xAt = region.at + 16 + 4 * shift; // 4-byte aligned only
          const yAt = xAt + 4 * n + 4;
          const out = region.at; // 16 bytes
          new Float32Array(a.buffer(), xAt, n).set(x!);
          new Float32Array(a.buffer(), yAt, n).set(y!);
          const sums = new Float64Array(a.buffer(), out, 2);
          pass.sumsq(xAt, n, out);
          expect(same([sums[0]!], [sumOfSquares(x!)])).toBe(true);
          sums.fill(0);
          pass.sumsq2(xAt, yAt, n, out);
          expect(same([...sums], [sumOfSquares(x!), sumOfSquares(y!)])).toBe(true);
        } finally {
          a.release(region);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** A random member: the library's pieces with random hyper-parameters, or a user's body in the expression form. */
const pieceArb: fc.Arbitrary<Piece> = fc.oneof(
  { arbitrary: libraryPieceArb, weight: 6 }, // each of the six library pieces as often as the user's body
  { arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((k) => ({ name: `user(${k})`, make: () => userPiece(k) })), weight: 1 },
);

/** A user's transformation: a clipped, sign-preserving step with a running maximum (every operation kind). */
const userPiece = (k: number) =>
  defineElementwise({
    name: "user",
    hyperparams: { k },
    state: { kind: "user", count: true, trees: { peak: true } },
    bodies: { step: { peak: "max(peak, abs(u))", u: "sign(u) * min(abs(u), k * peak' + 1e-3) - (p < 0 ? -0.5 : k) * sqrt(abs(g)) / (1 + peak')" } },
    step: (t) => E.right({ body: "step", scalars: { k: k / (t + 1) } }),
  });

/** Every value exactly (−0 and ±Inf count), leaves with their dtypes; any NaN counts as NaN. */
const bitsOf = (x: unknown): string =>
  JSON.stringify(x, (_k, v) =>
    isLeaf(v)
      ? `${dtypeOf(v)}[${v.shape}]:${Array.from(denseValues(v), (n) => (Object.is(n, -0) ? "-0" : String(n))).join(",")}`
      : typeof v === "number"
        ? Object.is(v, -0) ? "-0" : String(v)
        : v,
  );

/** Trees with odd and empty leaves beside the random ones. */
const specArb: fc.Arbitrary<TreeSpec> = fc.tuple(treeSpecArb(), fc.constantFrom<"float32" | "float64">("float32", "float64"), fc.integer({ min: 0, max: 13 })).map(([spec, dtype, n]) => ({
  spec,
  odd: { shape: [n], dtype, view: "dense" as const },
  empty: { shape: [0, 3], dtype, view: "dense" as const },
}));

type Stepper = typeof jsStep;
const run = (opt: GradientTransformation<any>, stepper: Stepper, spec: TreeSpec, seed: number, steps: number, resident: boolean, donate: boolean, bits = bitsOf) => {
  let params: Tree = makeTree(spec, seed);
  if (resident) params = right(kernelTree(params));
  let state = right(opt.init(params));
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = makeTree(spec, seed + 1 + t, 0.1);
    const step = stepper(opt, grads, state, params, { donate });
    if (E.isLeft(step)) return [...out, JSON.stringify(step.left)];
    [params, state] = step.right;
    out.push(bits(step.right));
  }
  return out;
};

describe("applyStep through the generated WebAssembly: the bits of the JavaScript and of the unfused chain", () => {
  let minValues = 0;
  beforeAll(() => {
    minValues = compiledMinValues(0); // every step through the WebAssembly, however small
  });
  afterAll(async () => {
    compiledMinValues(minValues);
    await kernelThreads(1);
  });

  it("random chains of the library's pieces and a user's body, random trees, plain or resident, donated or not, 1 or 2 threads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(pieceArb, { minLength: 1, maxLength: 4 }),
        specArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        fc.constantFrom<1 | 2>(1, 2),
        async (pieces, spec, steps, resident, donate, seed, threads) => {
          await kernelThreads(threads, 0); // every step shared with the helper thread when there are two
          const make = () => pieces.map((p) => p.make());
          const wasm = run(chain(...make()), applyStep, spec, seed, steps, resident, donate);
          const js = run(chain(...make()), jsStep, spec, seed, steps, resident, donate);
          const unfused = run(chainUnfused(...make()), jsStep, spec, seed, steps, false, false);
          expect(wasm).toEqual(js);
          expect(wasm).toEqual(unfused);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("random chains mixing fusable pieces and closures (runs between them, a fused tail with p + u): the same bits", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ arbitrary: mixedPieceArb, weight: 3 }, { arbitrary: pieceArb, weight: 1 }), { minLength: 1, maxLength: 6 }),
        specArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        fc.constantFrom<1 | 2>(1, 2),
        async (pieces, spec, steps, resident, donate, seed, threads) => {
          await kernelThreads(threads, 0);
          const make = () => pieces.map((p) => p.make());
          const wasm = run(chain(...make()), applyStep, spec, seed, steps, resident, donate);
          const js = run(chain(...make()), jsStep, spec, seed, steps, resident, donate);
          const unfused = run(chainUnfused(...make()), jsStep, spec, seed, steps, false, false);
          expect(wasm).toEqual(js);
          expect(wasm).toEqual(unfused);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("adafactor's elementwise tail runs in the WebAssembly, fused with p + u: resident params stay in kernel memory", () => {
    const opt = adafactor({ lr: 1e-2, minDimSizeToFactor: 4, momentum: 0.9, weightDecayRate: 1e-3 });
    expect(opt.fusable).toBeUndefined();
    expect(typeof opt.fusableTail?.head).toBe("function");
    const tree = (seed: number) => makeTree({ w: { shape: [37, 8], dtype: "float32", view: "dense" }, b: { shape: [3], dtype: "float32", view: "dense" } }, seed);
    const params = right(kernelTree(tree(1)));
    const [next, state] = right(applyStep(opt, tree(2), right(opt.init(params)), params, { donate: true }));
    expect(right(flatten(next)).leaves.map((l) => l.data.buffer instanceof SharedArrayBuffer)).toEqual([true, true]);
    const plain = tree(1);
    const [updates, expected] = right(opt.update(tree(2), right(opt.init(plain)), plain));
    expect(bytesOf([next, state])).toBe(bytesOf([right(applyUpdates(plain, updates)), expected]));
  });

  it("a donated step does not overwrite what the chain's head holds (its state keeps the old params), plain or resident", () => {
    const opt = () => chain(keepParams(), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
    const spec: TreeSpec = { w: { shape: [301], dtype: "float32", view: "dense" }, b: { shape: [7], dtype: "float32", view: "dense" } };
    const reference = run(chainUnfused(keepParams(), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1)), jsStep, spec, 3, 3, false, false, bytesOf);
    for (const stepper of [applyStep, jsStep])
      for (const resident of [false, true]) expect(run(opt(), stepper, spec, 3, 3, resident, true, bytesOf)).toEqual(reference);
    // resident: the regions the head's state holds are not taken back, so new kernel memory does not land on them
    const o = opt();
    let params = right(kernelTree(makeTree(spec, 3)));
    let state = right(o.init(params));
    for (let t = 0; t < 3; t++) [params, state] = right(applyStep(o, makeTree(spec, 4 + t, 0.1), state, params, { donate: true }));
    const before = bytesOf(state);
    const others = [1, 2, 3].map((k) => right(kernelTree(makeTree(spec, 50 + k))));
    expect(bytesOf(state)).toBe(before);
    expect(others).toHaveLength(3);
  });

  it("a donated resident step writes over the donated regions in place, unless another input views one; a refusing chain never", () => {
    const arena = kernelArena()!;
    const spec: TreeSpec = { w: { shape: [5003], dtype: "float32", view: "dense" }, b: { shape: [7], dtype: "float32", view: "dense" } };
    const leaves = (t: unknown) => right(flatten(t)).leaves;
    const cases = [
      ["a user's sgd (refuses nothing)", () => chain(addWeightDecay(5e-4), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1)), true],
      ["sgd (refuses NaN: checks g and p in its pass, so writes beside them)", () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }), false],
      // the refusing member second: adam's moments take their storage before sgd's check asks, so the step binds again
      ["adam's moments, then sgd", () => chain(scaleByAdam({}), sgd({ lr: 0.1, momentum: 0.9 })), false],
    ] as const;
    for (const [name, make, overwrites] of cases) {
      const opt = make();
      const p0 = right(kernelTree(makeTree(spec, 3)));
      const [p1, s1] = right(applyStep(opt, makeTree(spec, 4, 0.1), right(opt.init(p0)), p0, { donate: true }));
      const [olds, oldTraces] = [leaves(p1), leavesOf(s1)];
      const [p2, s2] = right(applyStep(opt, makeTree(spec, 5, 0.1), s1, p1, { donate: true }));
      expect(leaves(p2).map((leaf, i) => leaf.data === olds[i]!.data), name).toEqual([overwrites, overwrites]);
      expect(leavesOf(s2).map((leaf, i) => leaf.data === oldTraces[i]!.data), name).toEqual(oldTraces.map(() => overwrites));
      expect([...leaves(p2), ...leavesOf(s2)].every((leaf) => arena.holds(leaf)), name).toBe(true);
      // the same bits as the JavaScript path, which never writes over kernel memory
      const q0 = right(kernelTree(makeTree(spec, 3)));
      const [q1, t1] = right(jsStep(opt, makeTree(spec, 4, 0.1), right(opt.init(q0)), q0));
      expect(bytesOf(right(jsStep(opt, makeTree(spec, 5, 0.1), t1, q1))), name).toBe(bytesOf([p2, s2]));
    }
    // the gradient of w is the params' own leaf (the caller keeps it): every result in a new region, w as it was
    const opt = cases[0][1]();
    const p0 = right(kernelTree(makeTree(spec, 3)));
    const [p1, s1] = right(applyStep(opt, makeTree(spec, 4, 0.1), right(opt.init(p0)), p0, { donate: true }));
    const w = (p1 as { w: Tree }).w;
    const grads = { w, b: (makeTree(spec, 5, 0.1) as { b: Tree }).b };
    const [before, olds] = [bytesOf(w), leaves(p1)];
    const want = right(jsStep(opt, grads, s1, p1));
    const [p2, s2] = right(applyStep(opt, grads, s1, p1, { donate: true }));
    expect(bytesOf(w)).toBe(before);
    expect(leaves(p2).some((leaf, i) => leaf.data === olds[i]!.data)).toBe(false);
    expect(bytesOf([p2, s2])).toBe(bytesOf(want));
  });

  it("two threads split a large leaf's pass into ranges and its sums by leaf: the same bits", async () => {
    const opt = () => chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), userPiece(0.3), scaleByLr(1e-3));
    const spec: TreeSpec = { w: { shape: [70001], dtype: "float32", view: "dense" }, b: { shape: [5], dtype: "float32", view: "dense" } };
    expect(await kernelThreads(2, 0)).toBe(2);
    const two = run(opt(), applyStep, spec, 7, 2, true, true, bytesOf);
    await kernelThreads(1);
    expect(two).toEqual(run(opt(), jsStep, spec, 7, 2, false, false, bytesOf)); // (no NaN here: every byte counts)
  });

  it("a NaN in the last leaf is the JavaScript's Left, and every input (donated) is as it was", () => {
    const opt = () => chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), scaleByLr(1e-3));
    const leaf = { shape: [301], dtype: "float32", view: "dense" } as const;
    const spec: TreeSpec = { a: leaf, b: leaf, c: { shape: [7], dtype: "float32", view: "dense" }, d: leaf };
    for (const resident of [false, true]) {
      const o = opt();
      let params: Tree = makeTree(spec, 5);
      if (resident) params = right(kernelTree(params));
      const state = right(applyStep(o, makeTree(spec, 6, 0.1), right(o.init(params)), params))[1];
      const stepped = right(applyStep(o, makeTree(spec, 6, 0.1), state, params));
      const grads = makeTree(spec, 7, 0.1) as unknown as { d: { data: Float32Array } };
      grads.d.data[300] = NaN; // the last leaf's norm is NaN
      const before = bytesOf([stepped, grads]);
      const failed = applyStep(o, grads as unknown as Tree, stepped[1], stepped[0], { donate: true });
      expect(E.isLeft(failed) && failed.left.kind).toBe("NonFinite");
      expect(failed).toEqual(jsStep(o, grads as unknown as Tree, stepped[1], stepped[0]));
      expect(bytesOf([stepped, grads])).toBe(before);
    }
  });

  it("resident float32 params: the new params and state stay in kernel memory (the pass ran there)", () => {
    const opt = chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), scaleByLr(1e-3));
    const tree = (seed: number) => makeTree({ w: { shape: [37], dtype: "float32", view: "dense" }, b: { shape: [3], dtype: "float32", view: "dense" } }, seed);
    const params = right(kernelTree(tree(1)));
    const [next, state] = right(applyStep(opt, tree(2), right(opt.init(params)), params));
    const shared = (t: Tree) => right(flatten(t)).leaves.map((l) => l.data.buffer instanceof SharedArrayBuffer);
    expect(shared(next)).toEqual([true, true]);
    const moments = (state as readonly unknown[])[1] as { mu: Tree; nu: Tree };
    expect([...shared(moments.mu), ...shared(moments.nu)]).toEqual([true, true, true, true]);
    expect(bitsOf(right(jsStep(opt, tree(2), right(opt.init(tree(1))), tree(1))))).toBe(bitsOf([next, state]));
  });
});

/** A transformation without its fusable form: a chain with it runs member by member, so later members see u ≠ g. */
const unfusable = (t: GradientTransformation<any>): GradientTransformation<any> => ({ name: t.name, hyperparams: t.hyperparams, init: t.init, update: t.update });

/** `update` then `applyUpdates`, every step, with or without the params (then the updates are the new params' record). */
const updateSteps = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number, resident: boolean, withParams: boolean) => {
  let params: Tree = makeTree(spec, seed);
  if (resident) params = right(kernelTree(params));
  let state = right(opt.init(params));
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = makeTree(spec, seed + 1 + t, 0.1);
    const step = withParams ? opt.update(grads, state, params) : opt.update(grads, state);
    if (E.isLeft(step)) return [...out, JSON.stringify(step.left)];
    const next = right(applyUpdates(params, step.right[0]));
    out.push(bitsOf([step.right, next]));
    [params, state] = [next, step.right[1]];
  }
  return out;
};


describe("update through the installed WebAssembly: the bits of the JavaScript update and of the unfused chain", () => {
  const taken = everyStepCompiled("update"); // calls the WebAssembly ran (not handed back to the JavaScript)

  it("random chains, random trees (float32/float64, strided, odd, empty), with or without params, u = g or not, 1 or 2 threads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(pieceArb, { minLength: 1, maxLength: 4 }),
        specArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        fc.constantFrom<1 | 2>(1, 2),
        async (pieces, spec, steps, resident, withParams, scaled, seed, threads) => {
          await kernelThreads(threads, 0);
          // scaled: the fused chain sees u = ½·g, its members' g the raw gradient (a chain run member by member)
          const make = (c: (...m: GradientTransformation<any>[]) => GradientTransformation<any>) =>
            scaled ? chainUnfused(unfusable(scaleByLr(0.5)), c(...pieces.map((p) => p.make()))) : c(...pieces.map((p) => p.make()));
          const wasm = updateSteps(make(chain), spec, seed, steps, resident, withParams);
          const js = withoutCompiledMath(() => updateSteps(make(chain), spec, seed, steps, resident, withParams));
          const unfused = withoutCompiledMath(() => updateSteps(make(chainUnfused), spec, seed, steps, false, withParams));
          expect(wasm).toEqual(js);
          expect(wasm).toEqual(unfused);
        },
      ),
      { numRuns: 40 },
    );
    expect(taken()).toBeGreaterThan(0);
  });

  it("the installed executor takes a float32 update, and a Left leaves the inputs as they were", () => {
    const opt = chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), userPiece(0.3), scaleByLr(1e-3));
    const spec: TreeSpec = { w: { shape: [70001], dtype: "float32", view: "dense" }, b: { shape: [5], dtype: "float32", view: "dense" } };
    const params = makeTree(spec, 3);
    const state = right(opt.init(params));
    const grads = makeTree(spec, 4, 0.1) as unknown as { b: { data: Float32Array } };
    let calls = 0;
    const previous = installCompiledMath(undefined)!;
    installCompiledMath({ ...previous, update: (...args) => { const r = previous.update!(...args); if (r !== undefined) calls++; return r; } });
    try {
      const wasm = right(opt.update(grads as unknown as Tree, state, params));
      expect(calls).toBe(1);
      expect(bytesOf(wasm)).toBe(bytesOf(withoutCompiledMath(() => right(opt.update(grads as unknown as Tree, state, params)))));
      grads.b.data[4] = NaN; // the last leaf's norm is NaN: the trust ratio's Left
      const before = bytesOf([grads, state, params]);
      const failed = opt.update(grads as unknown as Tree, state, params);
      expect(E.isLeft(failed) && failed.left.kind).toBe("NonFinite");
      expect(failed).toEqual(withoutCompiledMath(() => opt.update(grads as unknown as Tree, state, params)));
      expect(bytesOf([grads, state, params])).toBe(before);
    } finally {
      installCompiledMath(previous);
    }
  });
});
