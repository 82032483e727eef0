/**
 * One LARS step over a whole tree whose leaves are float32 arrays inside the kernel's memory, on one thread or on
 * two (the caller's plus a LarsHelperThread). Per leaf j:
 *   ‖p‖, ‖g‖ (four-accumulator float64 norms), γ_j = trustRatio(‖p‖, ‖g‖), then the elementwise pass.
 * Norms of a leaf always run on one thread (splitting would change the summation order); the elementwise pass
 * is split anywhere, since each output value depends only on its own inputs. So every thread count gives the
 * same bits.
 */
import { type LarsLeafWasm } from "./lars-leaf-wasm.js";
import { NORM_TASK, STEP_TASK, type LarsHelperThread } from "./lars-leaf-pool.js";

/** Byte offsets of one leaf's arrays in kernel memory, and its length. */
export interface WasmLeafSlot {
  readonly p: number;
  readonly g: number;
  readonly buf: number;
  readonly outP: number;
  readonly outB: number;
  readonly n: number;
}

export interface LarsTreeCoefficients {
  readonly learningRate: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** no buffer yet: the new buffer is d */
  readonly first: boolean;
  /** γ from the two norms */
  trustRatio(paramNorm: number, gradNorm: number): number;
}

/** Leaves at least this long have their elementwise pass split between the two threads. */
const SPLIT_MIN = 16384;

/** How a tree's work is shared between the caller's thread (0) and the helper (1); computed once per layout. */
export interface TwoThreadPlan {
  readonly normsOwner: Uint8Array;
  /** for each leaf, the first element the helper does in the elementwise pass (n when the caller does all) */
  readonly stepSplit: Uint32Array;
}

/** Longest-first greedy balance of the norms; big leaves' elementwise pass halved at a multiple of 4. */
export function planTwoThreads(sizes: readonly number[]): TwoThreadPlan {
  const normsOwner = new Uint8Array(sizes.length);
  const stepSplit = new Uint32Array(sizes.length);
  const load = [0, 0];
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  for (const i of order) {
    const owner = load[0]! <= load[1]! ? 0 : 1;
    normsOwner[i] = owner;
    load[owner]! += sizes[i]!;
  }
  const stepLoad = [0, 0];
  for (const i of order) {
    const n = sizes[i]!;
    if (n >= SPLIT_MIN) {
      stepSplit[i] = 4 * Math.floor(n / 8);
      stepLoad[0]! += stepSplit[i]!;
      stepLoad[1]! += n - stepSplit[i]!;
    } else {
      const helper = stepLoad[1]! < stepLoad[0]!;
      stepSplit[i] = helper ? 0 : n;
      stepLoad[helper ? 1 : 0]! += n;
    }
  }
  return { normsOwner, stepSplit };
}

/**
 * Runs the step. `scratch` is a byte offset of 16·leaves free bytes (8-aligned) in kernel memory for the norms.
 * With `helper` and `plan`, the work is shared with the helper thread; the result is bit-identical either way.
 */
export function larsTreeStepWasm(
  kernel: LarsLeafWasm,
  slots: readonly WasmLeafSlot[],
  k: LarsTreeCoefficients,
  scratch: number,
  two?: { readonly helper: LarsHelperThread; readonly plan: TwoThreadPlan },
): void {
  const wd = k.weightDecay;
  const m = k.momentum;
  const c = 1 - k.dampening;
  const lr = k.learningRate;
  const flags = (k.first ? 1 : 0) | (k.nesterov ? 2 : 0);
  const norms = new Float64Array(kernel.memory.buffer, scratch, 2 * slots.length);
  if (two === undefined) {
    for (let j = 0; j < slots.length; j++) {
      const s = slots[j]!;
      kernel.sumSquaresPair(s.p, s.g, s.n, scratch + 16 * j);
      const gamma = k.trustRatio(Math.sqrt(norms[2 * j]!), Math.sqrt(norms[2 * j + 1]!));
      kernel.step(s.p, s.g, s.buf, s.outP, s.outB, s.n, wd, m, c, gamma, lr, flags);
    }
    return;
  }
  const { helper, plan } = two;
  const t = helper.tasks;
  // phase 1: norms, each leaf on one thread
  let count = 0;
  for (let j = 0; j < slots.length; j++) {
    if (plan.normsOwner[j] !== 1) continue;
    const s = slots[j]!;
    const o = NORM_TASK * count++;
    t[o] = s.p;
    t[o + 1] = s.g;
    t[o + 2] = s.n;
    t[o + 3] = scratch + 16 * j;
  }
  helper.startNorms(count);
  for (let j = 0; j < slots.length; j++) {
    if (plan.normsOwner[j] !== 0) continue;
    const s = slots[j]!;
    kernel.sumSquaresPair(s.p, s.g, s.n, scratch + 16 * j);
  }
  helper.wait();
  // phase 2: elementwise, the helper takes [split, n) of each leaf
  count = 0;
  for (let j = 0; j < slots.length; j++) {
    const s = slots[j]!;
    const split = plan.stepSplit[j]!;
    if (split >= s.n) continue;
    const gamma = k.trustRatio(Math.sqrt(norms[2 * j]!), Math.sqrt(norms[2 * j + 1]!));
    const at = 4 * split;
    const o = STEP_TASK * count++;
    t[o] = s.p + at;
    t[o + 1] = s.g + at;
    t[o + 2] = s.buf + at;
    t[o + 3] = s.outP + at;
    t[o + 4] = s.outB + at;
    t[o + 5] = s.n - split;
    t[o + 6] = wd;
    t[o + 7] = m;
    t[o + 8] = c;
    t[o + 9] = gamma;
    t[o + 10] = lr;
    t[o + 11] = flags;
  }
  helper.startStep(count);
  for (let j = 0; j < slots.length; j++) {
    const s = slots[j]!;
    const split = plan.stepSplit[j]!;
    if (split === 0) continue;
    const gamma = k.trustRatio(Math.sqrt(norms[2 * j]!), Math.sqrt(norms[2 * j + 1]!));
    kernel.step(s.p, s.g, s.buf, s.outP, s.outB, split, wd, m, c, gamma, lr, flags);
  }
  helper.wait();
}

