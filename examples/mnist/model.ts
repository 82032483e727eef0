/**
 * The MNIST example's model: a TensorFlow.js MLP x → relu(x W₁ + b₁) → h W₂ + b₂ (logits), 784 → 256 → 10 by
 * default, with seeded weights so that a run is the same every time; and the backend it runs on.
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { type Random, mulberry32 } from "../shared/prng.js";
import { CLASSES, PIXELS } from "./dataset.js";

/** The TF.js backends the example can train on. */
export type BackendName = "wasm" | "cpu";

/**
 * Selects the backend: `wasm` (XNNPACK with SIMD; trains dense layers correctly in 4.22, about 5× faster than
 * `cpu` here) unless `preferred` is `cpu` or the wasm module cannot start, then `cpu`. Returns the one in use.
 */
export const useBackend = async (preferred: BackendName = "wasm"): Promise<BackendName> => {
  if (preferred === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
    wasm.setWasmPaths(join(dirname(pkg), "dist") + "/");
    if (await tf.setBackend("wasm").catch(() => false)) {
      await tf.ready();
      return "wasm";
    }
  }
  await tf.setBackend("cpu");
  await tf.ready();
  return "cpu";
};

/** The backend named by the environment variable LARCH_BACKEND (`cpu` or `wasm`, default `wasm`). */
export const backendFromEnv = (): BackendName => (process.env["LARCH_BACKEND"] === "cpu" ? "cpu" : "wasm");

/** A fan_in × fan_out kernel of values ~ U(−bound, bound), drawn row-major from `random`. */
const uniformKernel = (random: Random, fanIn: number, fanOut: number, bound: number): tf.Tensor2D =>
  tf.tensor2d(Float32Array.from({ length: fanIn * fanOut }, () => (2 * random() - 1) * bound), [fanIn, fanOut]);

/**
 * The MLP, its layers named `fc1` and `fc2` so that its variables are `fc1/kernel`, `fc1/bias`, `fc2/kernel`,
 * `fc2/bias` (a second model in the same process gets TF.js's unique suffixes, `fc1/kernel_1`, …).
 * Kernels are seeded from `seed` (He-uniform for the relu layer, Glorot-uniform for the logits); biases start at 0.
 */
export const buildMlp = (seed: number, hidden = 256): tf.Sequential => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ name: "fc1", inputShape: [PIXELS], units: hidden, activation: "relu" }),
      tf.layers.dense({ name: "fc2", units: CLASSES }),
    ],
  });
  const random = mulberry32(seed);
  const kernels = [
    uniformKernel(random, PIXELS, hidden, Math.sqrt(6 / PIXELS)),
    uniformKernel(random, hidden, CLASSES, Math.sqrt(6 / (hidden + CLASSES))),
  ];
  const [fc1, fc2] = model.layers as [tf.layers.Layer, tf.layers.Layer];
  tf.tidy(() => {
    fc1.setWeights([kernels[0]!, tf.zeros([hidden])]);
    fc2.setWeights([kernels[1]!, tf.zeros([CLASSES])]);
  });
  tf.dispose(kernels);
  return model;
};

/** Mean softmax cross-entropy of the logits against one-hot labels: L = −(1/n) Σᵢ log softmax(zᵢ)[yᵢ]. */
export const crossEntropy = (labels: tf.Tensor, logits: tf.Tensor): tf.Scalar =>
  tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

/** Fraction of `n` digits (`x` row-major n × 784, labels `y`) whose arg-max logit is the label, in chunks of 1,000. */
export const accuracyOf = (model: tf.LayersModel, x: Float32Array, y: Int32Array): number => {
  const n = y.length;
  let correct = 0;
  for (let start = 0; start < n; start += 1000) {
    const end = Math.min(n, start + 1000);
    const predicted = tf.tidy(() => {
      const logits = model.predict(tf.tensor2d(x.subarray(start * PIXELS, end * PIXELS), [end - start, PIXELS])) as tf.Tensor;
      return logits.argMax(1).dataSync();
    });
    for (let i = start; i < end; i++) if (predicted[i - start] === y[i]) correct++;
  }
  return n === 0 ? 0 : correct / n;
};
