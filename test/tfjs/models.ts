/** Small deterministic TF.js models and data for the bridge's tests (cpu backend). */
import * as tf from "@tensorflow/tfjs";

/** The cpu backend, set once (the union package would try webgl first). */
export const useCpu = async (): Promise<void> => {
  if (tf.getBackend() !== "cpu") await tf.setBackend("cpu");
};

/** A 3→5→2 MLP with seeded weights; two calls give models with the same initial weights. */
export const tinyModel = (): tf.Sequential => {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 5, inputShape: [3], activation: "tanh", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.constant({ value: 0.1 }) }));
  m.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
};

/** 32 seeded samples (xs [32, 3], ys [32, 2]); the caller disposes them. */
export const tinyData = (): { xs: tf.Tensor; ys: tf.Tensor } => ({
  xs: tf.randomNormal([32, 3], 0, 1, "float32", 3),
  ys: tf.randomNormal([32, 2], 0, 1, "float32", 4),
});

/** Each weight's values (copies), in the model's order. */
export const weightValues = (m: tf.LayersModel): Float32Array[] => m.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));

/** max |a − b| / max(1, |b|) over all values. */
export const worstRelative = (a: readonly Float32Array[], b: readonly Float32Array[]): number => {
  let worst = 0;
  a.forEach((x, i) => x.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i]![k]!) / Math.max(1, Math.abs(b[i]![k]!))))));
  return worst;
};
