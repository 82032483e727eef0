/**
 * `lars()`'s whole step (update and apply) through the WebAssembly kernel, for `applyStep`: the
 * {@link AcceleratedStep} of the chain addWeightDecay(λ), traceMomentum, scaleByTrustRatio(λ), scaleByLr(α).
 *
 * Per step: the float32 params, grads and momentum buffers are copied into the kernel's memory; one kernel call
 * computes Σp², Σg² of every leaf; γ is computed here by the transform's own function (so a scaleClip is exact) and
 * every norm is checked before anything outside kernel memory is written; a second call runs every leaf's
 * elementwise pass in place (p′ over p, b′ over b); the new params and buffers are copied out into fresh arrays, or
 * into the donated storage. The result is the generic path's, bit for bit (test/kernels/lars-accelerated.test.ts).
 * Anything else (float64 leaves, a state it does not recognise, a non-finite norm, a failing schedule, memory that
 * cannot grow) returns undefined, and applyStep runs the generic path, which gives the same bits or the proper Left.
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { donatedStorage, isDonated } from "../core/donation.js";
import { checkCount, stateOfKind, stateTreeMatching } from "../core/elementwise.js";
import { denseValues, leafOf, sizeOf, type Leaf } from "../core/leaf.js";
import type { AcceleratedStep } from "../core/transform.js";
import { unflatten, type Flat } from "../core/tree.js";
import type { Schedule } from "../schedules/schedule.js";
import type { AddWeightDecayState } from "../transforms/addWeightDecay.js";
import { learningRateAt, type ScaleByLrState } from "../transforms/scaleByLr.js";
import { seedTrustRatio, type TrustRatioState } from "../transforms/scaleByTrustRatio.js";
import type { TraceMomentumState } from "../transforms/traceMomentum.js";
import { trustNumerator } from "../transforms/trustRatio.js";
import { LEAF_RECORD_BYTES } from "./lars-tree-batched.js";
import { createKernelMemory, instantiateLarsLeaf, larsLeafFlags, type LarsLeafWasm } from "./lars-leaf-wasm.js";
import { WASM_PAGE_BYTES, wasmApi } from "./wasm-api.js";

/** The hyper-parameters of `lars()` (already validated by it). */
export interface LarsKernelOptions {
  readonly lr: number | Schedule;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly scaleClip?: readonly [number, number];
}

/** The one kernel instance every accelerated step uses, created on first use; its memory grows as needed. */
let shared: LarsLeafWasm | undefined;

/** The kernel, its memory grown to at least `bytes`; undefined when that is impossible (no WebAssembly, > 4 GiB). */
const kernelWith = (bytes: number): LarsLeafWasm | undefined => {
  try {
    if (shared === undefined) {
      const memory = createKernelMemory(bytes);
      shared = memory && instantiateLarsLeaf(memory);
      return shared;
    }
    const have = shared.memory.buffer.byteLength;
    if (have < bytes) shared.memory.grow(Math.ceil((bytes - have) / WASM_PAGE_BYTES));
    return shared;
  } catch {
    return undefined; // RangeError: the memory cannot grow that far
  }
};

/** Rounds a byte count up to a multiple of 16 (every array starts 16-byte aligned). */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** lars()'s chain state, checked as the generic path checks it; undefined for anything the generic path must judge. */
interface LarsState {
  readonly decay: AddWeightDecayState;
  readonly momentum: TraceMomentumState;
  /** the momentum buffers, flattened (undefined when m = 0) */
  readonly trace: Flat | undefined;
  readonly trustCount: number;
  readonly lrCount: number;
}

const larsState = (state: ChainState, grads: Flat, m: number): LarsState | undefined => {
  if (isDonated(state) || !Array.isArray(state) || state.length !== 4) return undefined;
  const decay = stateOfKind<AddWeightDecayState>(state[0], "addWeightDecay");
  const momentum = stateOfKind<TraceMomentumState>(state[1], "traceMomentum");
  const trust = stateOfKind<TrustRatioState>(state[2], "scaleByTrustRatio");
  const lr = stateOfKind<ScaleByLrState>(state[3], "scaleByLr");
  if (E.isLeft(decay) || E.isLeft(momentum) || E.isLeft(trust) || E.isLeft(lr)) return undefined;
  const counts = [momentum.right.count, trust.right.count, lr.right.count].map((c) => checkCount("", c));
  if (!counts.every(E.isRight)) return undefined;
  const trace = m === 0 ? undefined : stateTreeMatching("traceMomentum", momentum.right.trace, grads);
  if (trace !== undefined && E.isLeft(trace)) return undefined;
  return {
    decay: decay.right,
    momentum: momentum.right,
    trace: trace?.right,
    trustCount: trust.right.count,
    lrCount: lr.right.count,
  };
};

/**
 * The accelerated step of `lars(o)`, or undefined when this host has no WebAssembly or the options are not ones
 * the kernel takes. `o` must be valid options (lars() attaches this only after its own checks).
 * @example
 * const larsChain = chain(addWeightDecay(λ), traceMomentum({ momentum: m }), scaleByTrustRatio({ weightDecay: λ }), scaleByLr(α));
 * const opt = { ...larsChain, accelerated: larsAccelerated({ lr: α, momentum: m, dampening: 0, weightDecay: λ, nesterov: false }) };
 */
export const larsAccelerated = (o: LarsKernelOptions): AcceleratedStep<ChainState> | undefined => {
  if (wasmApi === undefined) return undefined;
  const numerator = trustNumerator(o.scaleClip ? { scaleClip: o.scaleClip } : {});
  if (E.isLeft(numerator)) return undefined;
  const { weightDecay: wd, momentum: m, nesterov } = o;
  const c = 1 - o.dampening;
  return (grads, state, params, donate) => {
    if (!params.leaves.every((leaf) => leaf.data instanceof Float32Array)) return undefined; // grads: same dtypes
    const s = larsState(state, grads, m);
    if (s === undefined) return undefined;
    const alpha = learningRateAt(o.lr, s.lrCount);
    if (E.isLeft(alpha)) return undefined;
    const first = s.momentum.count === 0;
    const withBuffer = s.trace !== undefined;

    // layout: table (24 B a leaf), Σ pairs (16 B), γ (8 B), then per leaf p, g and (with momentum) b
    const count = params.leaves.length;
    const sizes = params.leaves.map((leaf) => sizeOf(leaf.shape));
    const table = 0;
    const sums = align16(LEAF_RECORD_BYTES * count);
    const gammas = sums + 16 * count;
    let end = align16(gammas + 8 * count);
    const at = sizes.map((n) => {
      const p = end;
      const g = p + align16(4 * n);
      const b = g + align16(4 * n);
      end = withBuffer ? b + align16(4 * n) : b;
      return { p, g, b };
    });
    const kernel = kernelWith(end);
    if (kernel === undefined) return undefined;

    // copy in, and the table: outP = p, outB = b (in place); no buffer at all when m = 0
    const heap = new Float32Array(kernel.memory.buffer);
    const records = new Int32Array(kernel.memory.buffer, table, 6 * count);
    for (let j = 0; j < count; j++) {
      const { p, g, b } = at[j]!;
      heap.set(denseValues(params.leaves[j]!), p / 4);
      heap.set(denseValues(grads.leaves[j]!), g / 4);
      if (withBuffer && !first) heap.set(denseValues(s.trace!.leaves[j]!), b / 4);
      const buf = withBuffer ? b : 0;
      records.set([p, g, buf, p, buf, sizes[j]!], 6 * j);
    }

    // phase 1: the norms; γ as scaleByTrustRatio computes it, every norm checked before anything is written
    kernel.sumSquaresLeaves(table, count, sums);
    const sumsOf = new Float64Array(kernel.memory.buffer, sums, 2 * count);
    const gammaOf = new Float64Array(kernel.memory.buffer, gammas, count);
    const ratios: Record<string, number> = {};
    for (let j = 0; j < count; j++) {
      const pNorm = Math.sqrt(sumsOf[2 * j]!);
      const gNorm = Math.sqrt(sumsOf[2 * j + 1]!);
      if (!(Number.isFinite(pNorm) && Number.isFinite(gNorm))) return undefined; // the generic path's NonFinite Left
      const gamma = seedTrustRatio(numerator.right, wd, pNorm, gNorm);
      gammaOf[j] = gamma;
      ratios[params.paths[j]!] = gamma;
    }

    // phase 2: every leaf's elementwise pass, then copy out (into donated storage where the generic path would)
    kernel.stepLeaves(table, count, gammas, wd, m, c, alpha.right, larsLeafFlags({ first, nesterov }));
    const reusable = donate ? donatedStorage(params, grads, state) : undefined;
    const out = (old: Leaf, from: number, n: number): Leaf => {
      const storage = (reusable?.get(old) as Float32Array | undefined) ?? new Float32Array(n);
      storage.set(heap.subarray(from / 4, from / 4 + n));
      return leafOf(storage, old.shape);
    };
    const newParams = params.leaves.map((leaf, j) => out(leaf, at[j]!.p, sizes[j]!));
    const momentum = withBuffer
      ? Object.freeze({
          kind: "traceMomentum" as const,
          count: s.momentum.count + 1,
          trace: unflatten(grads.def, grads.leaves.map((_, j) => out(s.trace!.leaves[j]!, at[j]!.b, sizes[j]!)), grads.paths),
        })
      : Object.freeze({ ...s.momentum, count: s.momentum.count + 1 });
    const nextState: ChainState = Object.freeze([
      s.decay,
      momentum,
      Object.freeze({ kind: "scaleByTrustRatio" as const, count: s.trustCount + 1, ratios: Object.freeze(ratios) }),
      Object.freeze({ kind: "scaleByLr" as const, count: s.lrCount + 1, lr: alpha.right }),
    ]);
    return [unflatten(params.def, newParams, params.paths), nextState] as const;
  };
};
