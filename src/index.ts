/**
 * larch: pure, composable optimizer transformations over trees of ndarrays, in the style of optax.
 * @module larch
 */

// core: trees, the transformation protocol, fusion, chain
export * from "./core/errors.js";
export * from "./core/leaf.js";
export * from "./core/tree.js";
export * from "./core/norm.js";
export * from "./core/treeMath.js";
export * from "./core/matmul.js";
export * from "./core/transform.js";
export * from "./core/elementwise.js";
export * from "./core/expression.js";
export * from "./core/defineElementwise.js";
export * from "./core/chain.js";
export * from "./core/identity.js";
export * from "./core/apply.js";
export { isDonated } from "./core/donation.js";
export type { ApplyStepOptions } from "./core/step.js";
export { applyStep } from "./kernels/applyStep.js";
// every fused update runs the kernels' compiled pass (this import's one effect; package.json `sideEffects`)
import "./kernels/install.js";

// schedules: hyper-parameters as pure functions of the step
export * from "./schedules/schedule.js";
export * from "./schedules/cosineDecay.js";
export * from "./schedules/linearWarmup.js";
export * from "./schedules/piecewiseConstant.js";
export * from "./schedules/exponentialDecay.js";
export * from "./schedules/warmupCosineDecay.js";
export * from "./schedules/joinSchedules.js";
export * from "./schedules/sgdr.js";
export * from "./schedules/oneCycle.js";

// transforms: one concept each
export * from "./transforms/addWeightDecay.js";
export * from "./transforms/traceMomentum.js";
export * from "./transforms/trustRatio.js";
export * from "./transforms/newtonSchulz.js";
export * from "./transforms/scaleByTrustRatio.js";
export * from "./transforms/scaleByUpdateTrustRatio.js";
export * from "./transforms/scaleByAdam.js";
export * from "./transforms/scaleByLion.js";
export * from "./transforms/scaleByBelief.js";
export * from "./transforms/momentOptions.js";
export * from "./transforms/scaleByNadam.js";
export * from "./transforms/scaleByRadam.js";
export * from "./transforms/scaleByAdan.js";
export * from "./transforms/scaleByAdemamix.js";
export * from "./transforms/scaleByMuon.js";
export * from "./transforms/scaleByShape.js";
export * from "./transforms/scaleByRms.js";
export * from "./transforms/scheduleFree.js";
export * from "./transforms/ema.js";
export * from "./transforms/clip.js";
export * from "./transforms/scaleByLr.js";
export * from "./transforms/clipByGlobalNorm.js";
export * from "./transforms/partition.js";
export * from "./transforms/masked.js";

// wrappers: transformations around other transformations
export * from "./wrappers/noUpdates.js";
export * from "./wrappers/skipNonFinite.js";
export * from "./wrappers/injectHyperparams.js";
export * from "./wrappers/multiSteps.js";
export * from "./wrappers/asGradient.js";
export * from "./wrappers/applyEvery.js";
export * from "./wrappers/skipLargeUpdates.js";
export * from "./wrappers/lookahead.js";
export * from "./wrappers/zeroNans.js";

// optimizers: named chains
export * from "./optimizers/namedChain.js";
export * from "./optimizers/lars.js";
export * from "./optimizers/sgd.js";
export * from "./optimizers/adam.js";
export * from "./optimizers/adamw.js";
export * from "./optimizers/lamb.js";
export * from "./optimizers/larsOptax.js";
export * from "./optimizers/larsPaper.js";
export * from "./optimizers/lion.js";
export * from "./optimizers/adabelief.js";
export * from "./optimizers/nadamw.js";
export * from "./optimizers/radam.js";
export * from "./optimizers/adan.js";
export * from "./optimizers/ademamix.js";
export * from "./optimizers/muon.js";
export * from "./optimizers/scheduleFreeAdamw.js";

// issue 14, family-a: Adafactor and its pieces, adaptive gradient clipping
export * from "./transforms/scale.js";
export * from "./transforms/scaleByFactoredRms.js";
export * from "./transforms/clipByBlockRms.js";
export * from "./transforms/scaleByParamBlockRms.js";
export * from "./transforms/adaptiveGradClip.js";
export * from "./optimizers/adafactor.js";

// kernels: trees placed in the WebAssembly kernel's memory
export { kernelThreads, kernelTree } from "./kernels/kernelMemory.js";

// time travel: checkpoints, recordings, seek, verify, fork, diff
export * from "./timetravel/stepStats.js";
export * from "./timetravel/index.js";
