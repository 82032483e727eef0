/**
 * The MNIST training loop, as a TF.js user writes it: `model.compile` with an optimizer, then `model.fit` once per
 * epoch over a seeded shuffle of the training digits (TF.js's own `shuffle` uses `Math.random`), and the held-out
 * accuracy after each epoch.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { mulberry32, shuffled } from "../shared/prng.js";
import { CLASSES, PIXELS, type Digits, takeDigits } from "./dataset.js";
import { accuracyOf, crossEntropy } from "./model.js";

/** How long and in what batches to train, and the seed of the epochs' shuffles. */
export interface FitConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly shuffleSeed: number;
}

/** What the loop reports after each epoch. */
export interface EpochReport {
  /** 1-based. */
  readonly epoch: number;
  /** Optimizer steps so far (batches of every epoch up to this one). */
  readonly steps: number;
  /** Mean training loss over the epoch's batches (from `model.fit`'s logs). */
  readonly loss: number;
  readonly heldOutAccuracy: number;
  /** Steps per second of this epoch's `model.fit`. */
  readonly stepsPerSecond: number;
}

/** Optimizer steps of one epoch: ⌈n / batchSize⌉. */
export const stepsPerEpoch = (n: number, batchSize: number): number => Math.ceil(n / batchSize);

/** The digits as TF.js tensors: x of shape [n, 784] and one-hot y of shape [n, 10]. */
const tensorsOf = (digits: Digits): { xs: tf.Tensor2D; ys: tf.Tensor2D } => ({
  xs: tf.tensor2d(digits.x, [digits.n, PIXELS]),
  ys: tf.tidy(() => tf.oneHot(tf.tensor1d(digits.y, "int32"), CLASSES).toFloat() as tf.Tensor2D),
});

/**
 * Compiles `model` with `optimizer` and the softmax cross-entropy, and trains it on `train` for `config.epochs`
 * epochs: each epoch a seeded permutation of the training digits, cut into batches of `config.batchSize` by
 * `model.fit` (`shuffle: false`). After each epoch, the accuracy on `heldOut`. Returns the reports of every epoch.
 */
export const fitMnist = async (
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  train: Digits,
  heldOut: Digits,
  config: FitConfig,
  onEpoch?: (report: EpochReport) => void,
): Promise<EpochReport[]> => {
  model.compile({ optimizer, loss: crossEntropy });
  const random = mulberry32(config.shuffleSeed);
  const rows = Array.from({ length: train.n }, (_, i) => i);
  const perEpoch = stepsPerEpoch(train.n, config.batchSize);
  const reports: EpochReport[] = [];
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const { xs, ys } = tensorsOf(takeDigits(train, shuffled(rows, random)));
    const started = performance.now();
    const history = await model.fit(xs, ys, { batchSize: config.batchSize, epochs: 1, shuffle: false, verbose: 0 });
    const seconds = (performance.now() - started) / 1000;
    tf.dispose([xs, ys]);
    const report: EpochReport = {
      epoch: epoch + 1,
      steps: (epoch + 1) * perEpoch,
      loss: Number(history.history["loss"]?.[0] ?? NaN),
      heldOutAccuracy: accuracyOf(model, heldOut.x, heldOut.y),
      stepsPerSecond: perEpoch / seconds,
    };
    reports.push(report);
    onEpoch?.(report);
  }
  return reports;
};
