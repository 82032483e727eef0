/** treeFromTensors and assignTree: the two halves of the bridge, for loops of one's own. */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { beforeAll, describe, expect, it } from "vitest";
import { applyStep, sgd, type Leaf } from "larch";
import { assignTree, treeFromTensors } from "larch/tfjs";
import { useCpu } from "./models.js";

beforeAll(useCpu);

describe("treeFromTensors and assignTree", () => {
  it("a tf.Variable[] round-trips through a step: copies in, values written back, later writes to the tree not reaching the variables", () => {
    const vars: tf.Variable[] = [tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, "rt/dense/kernel"), tf.variable(tf.tensor1d([0.5, -0.5]), true, "rt/dense/bias")];
    const p = treeFromTensors(vars);
    const g = treeFromTensors({ "rt/dense/kernel": tf.ones([2, 2]), "rt/dense/bias": tf.ones([2]) });
    if (E.isLeft(p) || E.isLeft(g)) throw new Error("trees");
    const kernel = (p.right as { rt: { dense: { kernel: Leaf } } }).rt.dense.kernel;
    expect(kernel.shape).toEqual([2, 2]);
    (vars[0] as tf.Variable).assign(tf.zeros([2, 2])); // the tree holds a copy
    expect(Array.from(kernel.data)).toEqual([1, 2, 3, 4]);
    const opt = sgd({ lr: 0.5 });
    const step = applyStep(opt, g.right, (opt.init(p.right) as E.Right<unknown>).right, p.right);
    if (E.isLeft(step)) throw new Error(step.left.message);
    expect(E.isRight(assignTree(vars, step.right[0]))).toBe(true);
    expect(Array.from(vars[0]!.dataSync())).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(Array.from(vars[1]!.dataSync())).toEqual([0, -1]);
    (step.right[0] as { rt: { dense: { bias: Leaf } } }).rt.dense.bias.data.fill(9); // not the variable's storage
    expect(Array.from(vars[1]!.dataSync())).toEqual([0, -1]);
    tf.dispose(vars);
  });

  it("assignTree checks everything first: a missing leaf or a wrong shape is a Left that assigns nothing", () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, "chk/a");
    const b = tf.variable(tf.tensor1d([3]), true, "chk/b");
    const leaf = (xs: number[]) => ndarray(Float32Array.from(xs), [xs.length]) as Leaf;
    const wrongShape = assignTree([a, b], { chk: { a: leaf([7, 7]), b: leaf([8, 8]) } });
    expect(E.isLeft(wrongShape) && [wrongShape.left.kind, wrongShape.left.path]).toEqual(["ShapeMismatch", "chk.b"]);
    const missing = assignTree({ "chk/a": a, "chk/b": b }, { chk: { a: leaf([7, 7]) } });
    expect(E.isLeft(missing) && missing.left.path).toBe("chk.b");
    expect([Array.from(a.dataSync()), Array.from(b.dataSync())]).toEqual([[1, 2], [3]]);
    for (const junk of [null, 3, "x", [tf.tensor1d([1])], { x: 1 }]) expect(E.isLeft(assignTree(junk as never, {}))).toBe(true);
    expect(E.isLeft(assignTree([a], null as never))).toBe(true);
    tf.dispose([a, b]);
  });

  it("trainOnBatch runs through larchOptimizer too", async () => {
    const { larchOptimizer } = await import("larch/tfjs");
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: "ones" })] });
    const optimizer = larchOptimizer(sgd({ lr: 0.1 }));
    model.compile({ optimizer, loss: "meanSquaredError" });
    const [x, y] = [tf.ones([4, 2]), tf.zeros([4, 1])];
    const first = (await model.trainOnBatch(x, y)) as number;
    const second = (await model.trainOnBatch(x, y)) as number;
    expect(optimizer.step).toBe(2);
    expect(second).toBeLessThan(first);
    tf.dispose([x, y]);
    model.dispose();
  });
});
