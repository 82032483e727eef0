/**
 * `larch/tfjs`: larch optimizers for TensorFlow.js models. Gradients come from TF.js (`model.fit`, `minimize`,
 * `tf.variableGrads`); larch computes the step. `@tensorflow/tfjs-core` (>= 4) is an optional peer dependency:
 * this module imports the one your program uses (the union package `@tensorflow/tfjs` brings it), and `larch`
 * itself imports nothing of TF.js.
 *
 * - {@link larchOptimizer}`(opt, { record?, resume? })`: a `tf.Optimizer` for `model.compile`; `.state`, `.step`,
 *   `checkpoint()`, `close()` (ends the recording), `noteLoss(x)` (the recording's loss in a loop of your own;
 *   `minimize`, so `model.fit`, notes it by itself), `getWeights`/`setWeights` (TF.js's `includeOptimizer` saving).
 * - {@link treeFromTensors} and {@link assignTree}: named tensors to a larch tree (names nest at "/") and back.
 * - {@link LarchError}: what a step throws for a larch Left (`kind`, `path`), after changing nothing.
 * @module larch/tfjs
 */
export { larchOptimizer, LarchOptimizer, CHECKPOINT_WEIGHT, type LarchOptimizerOptions, type LarchRecordOptions } from "./larchOptimizer.js";
export { treeFromTensors, assignTree, type NamedTensor, type NamedTensors } from "./tensors.js";
export { LarchError } from "./larchError.js";
