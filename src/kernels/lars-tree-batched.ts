/**
 * The batched tree step: each thread makes one `larsLeaves` kernel call over a table of whole leaves, the trust
 * ratio computed in the kernel (larsTrustRatio's formula). Per leaf j: ‖p‖, ‖g‖, γ_j, then the elementwise pass.
 * Whole leaves per thread means one synchronisation a step; the bits are those of the one-thread path.
 */
import { type LarsLeafWasm } from "./lars-leaf-wasm.js";
import { type LarsHelperThread } from "./lars-leaf-pool.js";
import type { LarsTreeCoefficients, WasmLeafSlot } from "./lars-tree-wasm.js";

/** Bytes per record of a larsLeaves table: six int32 (p, g, buf, outP, outB, n). */
export const LEAF_RECORD_BYTES = 24;

/** Writes the larsLeaves table of `slots` at byte offset `table` of kernel memory (4-aligned). */
export function writeLeafTable(kernel: LarsLeafWasm, table: number, slots: readonly WasmLeafSlot[]): void {
  const words = new Int32Array(kernel.memory.buffer, table, 6 * slots.length);
  slots.forEach((s, j) => words.set([s.p, s.g, s.buf, s.outP, s.outB, s.n], 6 * j));
}

/** Longest-first greedy split of whole leaves into two lists of leaf indices, balanced by size. */
export function splitWholeLeaves(sizes: readonly number[]): [number[], number[]] {
  const parts: [number[], number[]] = [[], []];
  const load = [0, 0];
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  for (const i of order) {
    const owner = load[0]! <= load[1]! ? 0 : 1;
    parts[owner].push(i);
    load[owner]! += sizes[i]!;
  }
  return parts;
}

/** A larsLeaves table already written in kernel memory. */
export interface LeafTable {
  readonly at: number;
  readonly count: number;
}

/**
 * The step through `larsLeaves`: one kernel call per thread, the trust ratio computed in the kernel
 * (larsTrustRatio's formula). With `helper`, the helper runs `helperTable` while the caller runs `table`;
 * whole leaves on each side, so one synchronisation a step. `scratch`: 32 free bytes (8-aligned).
 */
export function larsTreeStepWasmBatched(
  kernel: LarsLeafWasm,
  table: LeafTable,
  k: Omit<LarsTreeCoefficients, "trustRatio">,
  scratch: number,
  two?: { readonly helper: LarsHelperThread; readonly helperTable: LeafTable },
): void {
  const c = 1 - k.dampening;
  const flags = (k.first ? 1 : 0) | (k.nesterov ? 2 : 0);
  if (two !== undefined) {
    const t = two.helper.tasks;
    t[0] = two.helperTable.at;
    t[1] = two.helperTable.count;
    t[2] = k.weightDecay;
    t[3] = k.momentum;
    t[4] = c;
    t[5] = k.learningRate;
    t[6] = flags;
    t[7] = scratch + 16;
    two.helper.startLeaves();
  }
  kernel.larsLeaves(table.at, table.count, k.weightDecay, k.momentum, c, k.learningRate, flags, scratch);
  two?.helper.wait();
}

/** Leaf indices, largest first: the order for a shared table (big leaves first balances best). */
export function largestFirst(sizes: readonly number[]): number[] {
  return sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
}

/**
 * The step with leaves shared through a counter: the caller and the helper each take the next leaf of `table`
 * (ideally largest first) until none is left, and the caller never waits for a helper that has not started (a busy
 * core costs nothing beyond the one-thread time). `scratch`: 32 free bytes (8-aligned). Same bits as one thread.
 */
export function larsTreeStepWasmShared(
  kernel: LarsLeafWasm,
  table: LeafTable,
  k: Omit<LarsTreeCoefficients, "trustRatio">,
  scratch: number,
  helper: LarsHelperThread,
): void {
  const wd = k.weightDecay;
  const m = k.momentum;
  const c = 1 - k.dampening;
  const lr = k.learningRate;
  const flags = (k.first ? 1 : 0) | (k.nesterov ? 2 : 0);
  const t = helper.tasks;
  t[0] = table.at;
  t[1] = table.count;
  t[2] = wd;
  t[3] = m;
  t[4] = c;
  t[5] = lr;
  t[6] = flags;
  t[7] = scratch + 16;
  helper.shareLeaves(table.count, (i) =>
    kernel.larsLeaves(table.at + LEAF_RECORD_BYTES * i, 1, wd, m, c, lr, flags, scratch));
}
