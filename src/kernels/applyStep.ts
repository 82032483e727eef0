/**
 * `applyStep`, the core's whole step over the kernels' generated WebAssembly.
 * @module
 */
import { applyStepWith } from "../core/step.js";
import { wasmMath } from "./compiledStep.js";

/**
 * One step of `opt` applied to the params: with (u, s′) = opt.update(g, s, p), the result is (p + u, s′),
 * leaf by leaf, bit for bit what `update` followed by {@link applyUpdates} gives.
 *
 * For a chain in the expression form (`sgd`, `adam`, `adamw`, `lars`, a user's chain of library pieces or of
 * {@link defineElementwise} transformations), each float32 leaf is one pass of WebAssembly SIMD generated from the
 * members' bodies, with the bits of the JavaScript path; params already in kernel memory ({@link kernelTree}) are
 * read and written there, others are copied in and out. Float64 trees, and hosts without WebAssembly, run the
 * generated JavaScript (the same bits). Every per-leaf check (non-finite norms, state mismatches) runs before the
 * first value is written, so a Left leaves everything as it was, donated or not. Other optimizers run `update` and
 * then `applyUpdates`.
 * @example
 * const step = applyStep(lars({ lr: 0.1, momentum: 0.9 }), grads, state, params);
 * if (E.isRight(step)) [params, state] = step.right;
 * // no allocation per step: the old params and state are handed over and must not be used again
 * const donated = applyStep(opt, grads, state, params, { donate: true });
 */
export const applyStep = applyStepWith(wasmMath);
