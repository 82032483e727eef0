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
export * from "./transforms/trustRatio.js";
export * from "./transforms/scaleByUpdateTrustRatio.js";
export * from "./transforms/scaleByAdam.js";
export * from "./optimizers/sgd.js";
export * from "./optimizers/adam.js";
export * from "./optimizers/adamw.js";
export * from "./optimizers/lamb.js";
export * from "./optimizers/larsOptax.js";
export * from "./optimizers/larsPaper.js";
export * from "./transforms/clipByGlobalNorm.js";
export * from "./wrappers/noUpdates.js";
export * from "./wrappers/skipNonFinite.js";
export * from "./wrappers/injectHyperparams.js";
export * from "./wrappers/multiSteps.js";
export * from "./schedules/cosineDecay.js";
export * from "./schedules/linearWarmup.js";
export * from "./schedules/piecewiseConstant.js";
export * from "./optimizers/namedChain.js";
export * from "./wrappers/asGradient.js";
