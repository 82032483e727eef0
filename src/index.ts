/**
 * larch: pure, composable optimizer transformations over trees of ndarrays, in the style of optax.
 * @module
 */
export * from "./core/errors.js";
export * from "./core/leaf.js";
export * from "./core/tree.js";
export * from "./core/norm.js";
export * from "./core/transform.js";
export * from "./core/elementwise.js";
export * from "./core/chain.js";
export * from "./core/identity.js";
export * from "./core/apply.js";
export * from "./schedules/schedule.js";
export * from "./transforms/addWeightDecay.js";
export * from "./transforms/traceMomentum.js";
export * from "./transforms/scaleByTrustRatio.js";
export * from "./transforms/scaleByLr.js";
export * from "./transforms/partition.js";
export * from "./transforms/masked.js";
export * from "./optimizers/lars.js";
export * from "./timetravel/stepStats.js";
export * from "./timetravel/index.js";
