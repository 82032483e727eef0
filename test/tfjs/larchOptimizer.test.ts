/** larchOptimizer as a TF.js optimizer: model.fit parity with TF.js's own optimizers, one step = applyStep, errors. */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { adam, applyStep, encodeState, lars, sgd, skipNonFinite, type Leaf, type Tree } from "larch";
import { larchOptimizer, LarchError, treeFromTensors } from "larch/tfjs";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import { tinyData, tinyModel, useCpu, weightValues, worstRelative } from "./models.js";

beforeAll(useCpu);

/** Trains a fresh tinyModel with `optimizer` for 4 epochs of batch 8 (16 steps), no shuffling; its final weights. */
const trainWith = async (optimizer: tf.Optimizer): Promise<{ weights: Float32Array[]; initial: Float32Array[] }> => {
  const model = tinyModel();
  const initial = weightValues(model);
  const { xs, ys } = tinyData();
  model.compile({ optimizer, loss: "meanSquaredError" });
  await model.fit(xs, ys, { epochs: 4, batchSize: 8, shuffle: false, verbose: 0 });
  const weights = weightValues(model);
  tf.dispose([xs, ys]);
  model.dispose();
  return { weights, initial };
};

const bitsOf = (leaf: Leaf): Uint32Array => new Uint32Array(Float32Array.from(leaf.data as Float32Array).buffer);
const bitsOfTensor = (t: tf.Tensor): Uint32Array => new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);

describe("larchOptimizer in model.fit", () => {
  it("larchOptimizer(sgd({ lr, momentum })) trains as tf.train.momentum (float32, 1e-4 relative)", async () => {
    const ours = await trainWith(larchOptimizer(sgd({ lr: 0.05, momentum: 0.9 })));
    const theirs = await trainWith(tf.train.momentum(0.05, 0.9));
    expect(worstRelative(ours.weights, ours.initial)).toBeGreaterThan(1e-2); // it trained
    expect(worstRelative(ours.weights, theirs.weights)).toBeLessThan(1e-4);
  });

  it("larchOptimizer(adam({ lr, eps: 1e-7 })) trains as tf.train.adam (TF.js's eps is 1e-7)", async () => {
    const ours = await trainWith(larchOptimizer(adam({ lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-7 })));
    const theirs = await trainWith(tf.train.adam(0.01, 0.9, 0.999, 1e-7));
    expect(worstRelative(ours.weights, ours.initial)).toBeGreaterThan(1e-2);
    expect(worstRelative(ours.weights, theirs.weights)).toBeLessThan(1e-4);
  });

  it("counts its steps (.step, .iterations) and keeps a larch state", async () => {
    const optimizer = larchOptimizer(lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }));
    expect(optimizer.state).toBeUndefined();
    await trainWith(optimizer);
    expect(optimizer.step).toBe(16);
    expect(optimizer.iterations).toBe(16);
    expect(E.isRight(encodeState(optimizer.state))).toBe(true);
  });
});

describe("one applyGradients", () => {
  const setup = () => {
    const w = tf.variable(tf.tensor2d([[0.5, -1.5, 2], [3, 0.25, -0.75]]), true, "bridge1/dense/kernel");
    const b = tf.variable(tf.tensor1d([0.1, -0.2]), true, "bridge1/dense/bias");
    const grads = { "bridge1/dense/kernel": tf.tensor2d([[0.3, 0.1, -0.2], [0.05, -0.4, 0.6]]), "bridge1/dense/bias": tf.tensor1d([0.01, -0.03]) };
    return { w, b, grads, dispose: () => tf.dispose([w, b, ...Object.values(grads)]) };
  };

  it("is applyStep on treeFromTensors of the same gradients and variables, bit for bit, and leaves the gradients as they were", () => {
    const { w, b, grads, dispose } = setup();
    const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const g = treeFromTensors(grads);
    const p = treeFromTensors([w, b]);
    if (E.isLeft(g) || E.isLeft(p)) throw new Error("trees");
    const s0 = opt.init(p.right);
    if (E.isLeft(s0)) throw new Error("init");
    const expected = applyStep(opt, g.right, s0.right, p.right);
    if (E.isLeft(expected)) throw new Error(expected.left.message);
    const gradBits = Object.values(grads).map(bitsOfTensor);

    const optimizer = larchOptimizer(opt);
    optimizer.applyGradients(grads);
    const [params, state] = expected.right as readonly [{ bridge1: { dense: { kernel: Leaf; bias: Leaf } } }, unknown];
    expect(bitsOfTensor(w)).toEqual(bitsOf(params.bridge1.dense.kernel));
    expect(bitsOfTensor(b)).toEqual(bitsOf(params.bridge1.dense.bias));
    const enc = (s: unknown) => (E.isRight(encodeState(s)) ? Array.from((encodeState(s) as E.Right<Uint8Array>).right) : null);
    expect(enc(optimizer.state)).toEqual(enc(state));
    expect(Object.values(grads).every((t) => !t.isDisposed)).toBe(true);
    expect(Object.values(grads).map(bitsOfTensor)).toEqual(gradBits);
    // a second step, from a state with momentum buffers (lars() runs its compiled kernel on kernel-memory copies)
    const again = applyStep(opt, g.right, state, params as unknown as Tree);
    if (E.isLeft(again)) throw new Error(again.left.message);
    optimizer.applyGradients(grads);
    const [params2, state2] = again.right as readonly [{ bridge1: { dense: { kernel: Leaf; bias: Leaf } } }, unknown];
    expect(bitsOfTensor(w)).toEqual(bitsOf(params2.bridge1.dense.kernel));
    expect(bitsOfTensor(b)).toEqual(bitsOf(params2.bridge1.dense.bias));
    expect(enc(optimizer.state)).toEqual(enc(state2));
    dispose();
  });

  it("takes a NamedTensor[] too, and makes no tensor that outlives it over 1000 steps", () => {
    const { w, b, grads, dispose } = setup();
    const optimizer = larchOptimizer(sgd({ lr: 1e-3, momentum: 0.9 }));
    const list = Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
    optimizer.applyGradients(list);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) optimizer.applyGradients(list);
    expect(tf.memory().numTensors).toBe(before);
    expect(optimizer.step).toBe(1001);
    dispose();
  });

  it("lars() steps hand every region of kernel memory they copy into back at once: no growth without the GC", () => {
    const n = 1 << 14;
    const v = [0, 1].map((i) => tf.variable(tf.randomNormal([n], 0, 0.1, "float32", i), true, `bridgeKm/v${i}`));
    const grads = Object.fromEntries(v.map((x, i) => [x.name, tf.randomNormal([n], 0, 0.01, "float32", 9 + i)]));
    const optimizer = larchOptimizer(lars({ lr: 1e-3, momentum: 0.9 }));
    const arena = kernelArena();
    optimizer.applyGradients(grads);
    optimizer.applyGradients(grads);
    const held = arena?.inUse;
    for (let t = 0; t < 20; t++) optimizer.applyGradients(grads); // synchronously: no finalizer can run
    expect(arena?.inUse).toBe(held);
    // (not an absolute bound: test files share the process, and the arena, with other tests' kernel trees)
    tf.dispose([...v, ...Object.values(grads)]);
  });

  it("throws a LarchError naming the variable for a NaN gradient, and changes nothing", () => {
    const { w, b, grads, dispose } = setup();
    const optimizer = larchOptimizer(lars({ lr: 0.1, momentum: 0.9 }));
    optimizer.applyGradients(grads);
    const state = optimizer.state;
    const before = [bitsOfTensor(w), bitsOfTensor(b)];
    const bad = { ...grads, "bridge1/dense/kernel": tf.tensor2d([[0.3, NaN, -0.2], [0.05, -0.4, 0.6]]) };
    let thrown: unknown;
    try {
      optimizer.applyGradients(bad);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LarchError);
    const error = thrown as LarchError;
    expect(error.kind).toBe("NonFinite");
    expect(error.path).toBe("bridge1.dense.kernel");
    expect(error.message).toMatch(/bridge1\.dense\.kernel/);
    expect([bitsOfTensor(w), bitsOfTensor(b)]).toEqual(before);
    expect(optimizer.state).toBe(state);
    expect(optimizer.step).toBe(1);
    tf.dispose(bad["bridge1/dense/kernel"]);
    dispose();
  });

  it("skipNonFinite(inner) skips such a step instead: params unchanged, the step counted", () => {
    const { w, b, grads, dispose } = setup();
    const optimizer = larchOptimizer(skipNonFinite(lars({ lr: 0.1, momentum: 0.9 })));
    const before = [bitsOfTensor(w), bitsOfTensor(b)];
    const bad = { ...grads, "bridge1/dense/bias": tf.tensor1d([Infinity, 0]) };
    optimizer.applyGradients(bad);
    expect([bitsOfTensor(w), bitsOfTensor(b)]).toEqual(before);
    expect(optimizer.step).toBe(1);
    expect((optimizer.state as { skipped: number }).skipped).toBe(1);
    tf.dispose(bad["bridge1/dense/bias"]);
    dispose();
  });
});

describe("junk", () => {
  it("larchOptimizer refuses what is not a larch optimizer with a LarchError", () => {
    for (const junk of [undefined, null, 3, "lars", {}, { init: 1, update: 2 }, tf.train.sgd(0.1)])
      expect(() => larchOptimizer(junk as never)).toThrow(LarchError);
    expect(() => larchOptimizer(sgd({ lr: 0.1 }), { record: { path: "" } })).toThrow(LarchError);
    expect(() => larchOptimizer(sgd({ lr: 0.1 }), { resume: Uint8Array.of(1, 2, 3) })).toThrow(/DecodeError|checkpoint|bytes/i);
  });

  it("applyGradients throws a LarchError, never a TypeError, for junk gradients, and changes nothing", () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, "bridgeJunk/v");
    const optimizer = larchOptimizer(sgd({ lr: 0.1 }));
    const disposed = tf.tensor1d([1, 1]);
    disposed.dispose();
    const junk: unknown[] = [
      undefined, null, 5, "g", [1], [null], [{ name: 3, tensor: tf.scalar(1) }], { "bridgeJunk/v": null }, { "bridgeJunk/v": [1, 2] },
      { "bridgeJunk/v": tf.tensor1d([1, 2], "int32") }, { "bridgeJunk/v": disposed }, { "bridgeJunk/v": tf.complex([1, 1], [0, 0]) },
      { "bridgeJunk/v": tf.tensor1d([1, 2, 3]) }, { "no/such/variable": tf.tensor1d([1, 2]) }, { "bridgeJunk//v": tf.tensor1d([1, 2]) },
    ];
    for (const g of junk) {
      expect(() => optimizer.applyGradients(g as never)).toThrow(LarchError);
      expect(Array.from(v.dataSync())).toEqual([1, 2]);
    }
    expect(optimizer.step).toBe(0);
    v.dispose();
  });

  it("treeFromTensors gives Lefts naming the tensor, and nests names at '/'", () => {
    const a = tf.tensor1d([1, 2]);
    const t = treeFromTensors({ "m/dense/kernel": a, "m/dense/bias": tf.scalar(3), other: tf.tensor2d([[1]]) });
    expect(E.isRight(t) && Object.keys((t.right as { m: { dense: Tree } }).m.dense).sort()).toEqual(["bias", "kernel"]);
    const clash = treeFromTensors({ "m/dense": a, "m/dense/kernel": a });
    expect(E.isLeft(clash) && clash.left.message).toMatch(/m\/dense/);
    const ints = treeFromTensors({ "layer/w": tf.tensor1d([1], "int32") });
    expect(E.isLeft(ints) && [ints.left.kind, ints.left.path]).toEqual(["InvalidTree", "layer/w"]);
    for (const junk of [null, 1, "x", a, [1], { x: {} }]) expect(E.isLeft(treeFromTensors(junk as never))).toBe(true);
  });
});
