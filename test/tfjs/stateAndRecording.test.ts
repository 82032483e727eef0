/** larchOptimizer's state outside the step: TF.js's own save with includeOptimizer, checkpoint()/resume, recording. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { labelByPath, lars, partition, readRecording, sgd, verify } from "larch";
import { larchOptimizer, LarchError, LarchOptimizer } from "larch/tfjs";
import { reportData } from "../../src/cli/reportFromRecording.js";
import { tinyData, tinyModel, useCpu, weightValues } from "./models.js";

beforeAll(useCpu);

const bits = (ws: readonly Float32Array[]): number[][] => ws.map((w) => Array.from(new Uint32Array(Float32Array.from(w).buffer)));
const fit = async (model: tf.LayersModel, epochs: number, callbacks?: tf.CustomCallbackArgs): Promise<void> => {
  const { xs, ys } = tinyData();
  await model.fit(xs, ys, { epochs, batchSize: 8, shuffle: false, verbose: 0, ...(callbacks ? { callbacks } : {}) });
  tf.dispose([xs, ys]);
};
const grouped = () =>
  partition({ decay: lars({ lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }), noDecay: lars({ lr: 0.05, momentum: 0.9 }) }, (p) =>
    labelByPath(p, (path) => (path.endsWith("bias") ? "noDecay" : "decay")),
  );

describe("saving and resuming", () => {
  it("model.save with includeOptimizer, then tf.loadLayersModel, continues bit for bit", async () => {
    const model = tinyModel();
    model.compile({ optimizer: larchOptimizer(sgd({ lr: 0.05, momentum: 0.9, weightDecay: 1e-4 })), loss: "meanSquaredError" });
    await fit(model, 2);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => ((saved = artifacts), { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: "JSON" } })), { includeOptimizer: true });
    await fit(model, 2);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.optimizer).toBeInstanceOf(LarchOptimizer);
    expect((loaded.optimizer as LarchOptimizer).step).toBe(8);
    await fit(loaded, 2);
    expect(bits(weightValues(loaded))).toEqual(bits(weightValues(model)));
    expect((loaded.optimizer as LarchOptimizer).step).toBe(16);
    model.dispose();
    loaded.dispose();
  });

  it("getWeights/setWeights carry the larch state of any optimizer (a partition with a label function too)", async () => {
    const a = tinyModel();
    const optA = larchOptimizer(grouped());
    a.compile({ optimizer: optA, loss: "meanSquaredError" });
    await fit(a, 1);
    const weights = await optA.getWeights();
    expect(weights.map((w) => w.name)).toEqual(["iter", "larch/checkpoint"]);
    const b = tinyModel();
    b.setWeights(a.getWeights());
    const optB = larchOptimizer(grouped());
    await optB.setWeights(weights);
    b.compile({ optimizer: optB, loss: "meanSquaredError" });
    await fit(a, 1);
    await fit(b, 1);
    expect(bits(weightValues(b))).toEqual(bits(weightValues(a)));
    expect(optB.step).toBe(8);
    optA.dispose();
    a.dispose();
    b.dispose();
  });

  it("checkpoint() bytes resume bit for bit; a checkpoint of other variables throws at the first step, changing nothing", async () => {
    const opt = () => lars({ lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const a = tinyModel();
    const optA = larchOptimizer(opt());
    expect(E.isLeft(optA.checkpoint())).toBe(true);
    a.compile({ optimizer: optA, loss: "meanSquaredError" });
    await fit(a, 1);
    const bytes = optA.checkpoint();
    if (E.isLeft(bytes)) throw new Error(bytes.left.message);
    const b = tinyModel();
    b.setWeights(a.getWeights());
    b.compile({ optimizer: larchOptimizer(opt(), { resume: bytes.right }), loss: "meanSquaredError" });
    await fit(a, 1);
    await fit(b, 1);
    expect(bits(weightValues(b))).toEqual(bits(weightValues(a)));

    const other = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
    const before = bits(weightValues(other));
    const optC = larchOptimizer(opt(), { resume: bytes.right });
    other.compile({ optimizer: optC, loss: "meanSquaredError" });
    const { xs } = tinyData();
    await expect(other.fit(xs, tf.zeros([32, 1]), { epochs: 1, batchSize: 8, verbose: 0 })).rejects.toThrow(LarchError);
    expect(bits(weightValues(other))).toEqual(before);
    expect(optC.state).toBeUndefined();
    tf.dispose(xs);
    [a, b, other].forEach((m) => m.dispose());
  });
});

describe("recording", () => {
  it("records model.fit into a .larch that verify replays bit for bit, with each batch's loss from fit", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "larch-tfjs-")), "run.larch");
    const model = tinyModel();
    const optimizer = larchOptimizer(grouped(), { record: { path, keyframeEvery: 4, meta: { title: "tiny" } } });
    model.compile({ optimizer, loss: "meanSquaredError" });
    const losses: number[] = [];
    await fit(model, 2, { onBatchEnd: async (_batch, logs) => void losses.push(logs!["loss"] as number) });
    const closed = optimizer.close();
    expect(E.isRight(closed) && closed.right).toMatchObject({ path, firstStep: 0, endStep: 8 });
    const rec = readRecording(path);
    if (E.isLeft(rec)) throw new Error(rec.left.message);
    const paths = rec.right.header.leaves.map((l) => l.path);
    expect(paths).toHaveLength(4);
    expect(paths.every((p) => /^dense_Dense\d+\.(bias|kernel)$/.test(p))).toBe(true);
    const steps = rec.right.steps(0);
    if (E.isLeft(steps)) throw new Error(steps.left.message);
    expect(losses).toHaveLength(8);
    expect(steps.right.map((s) => s.loss)).toEqual(losses); // the very value minimize computed, which fit logs
    const report = verify(rec.right, { 0: grouped() });
    expect(E.isRight(report) && report.right.divergence).toBe(null);
    const data = reportData(rec.right);
    expect(E.isRight(data) && data.right.steps.length).toBe(8);
    // the final keyframe holds the variables as they are now
    const last = rec.right.keyframe(0, 8);
    if (E.isLeft(last)) throw new Error(last.left.message);
    const recorded = last.right.params as unknown as Record<string, { kernel: { data: Float32Array }; bias: { data: Float32Array } }>;
    const layers = Object.keys(recorded).sort((x, y) => Number(/\d+/.exec(x)![0]) - Number(/\d+/.exec(y)![0]));
    expect(bits(layers.flatMap((k) => [recorded[k]!.kernel.data, recorded[k]!.bias.data]))).toEqual(bits(weightValues(model)));
    expect(() => optimizer.applyGradients({})).toThrow(LarchError);
    model.dispose();
  });
});
