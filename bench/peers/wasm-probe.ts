/**
 * The WebAssembly SIMD LARS probe (src/kernels): a pure step (old params and buffers untouched, new ones written
 * elsewhere) in three memory arrangements, on one thread or two:
 * - resident: params, buffers and grads live in kernel memory; new params/buffers go to a second copy of the
 *   regions and the two alternate (what recycling a donated or dead previous state looks like);
 * - resident, batched: the same through the kernel's larsLeaves (one call per thread, whole leaves per thread);
 * - resident, shared leaves: the same, both threads taking the next leaf (largest first) from a shared counter;
 * - grads copied in: as resident, but the grads arrive as JS Float32Arrays and are copied in each step;
 * - copy in/out: everything is a JS Float32Array; each step copies params, buffers and grads into kernel memory
 *   and the results out into new Float32Arrays (a pure API over JS-owned arrays);
 * - copy in/out per leaf: the same through a staging area the size of the largest leaf (fits any tree whose
 *   largest leaf fits, and the staging stays warm in cache for small leaves); one thread.
 */
import { createKernelMemory, instantiateLarsLeaf, type LarsLeafWasm } from "../../src/kernels/lars-leaf-wasm.js";
import { startLarsHelperThread } from "../../src/kernels/lars-leaf-pool.js";
import {
  LEAF_RECORD_BYTES, largestFirst, larsTreeStepWasmBatched, larsTreeStepWasmShared, splitWholeLeaves, writeLeafTable,
  type LeafTable,
} from "../../src/kernels/lars-tree-batched.js";
import {
  larsTreeStepWasm, planTwoThreads, type LarsTreeCoefficients, type WasmLeafSlot,
} from "../../src/kernels/lars-tree-wasm.js";
import type { Peer, PeerSetup } from "../peer.js";
import type { BenchTree, TreeId } from "../trees.js";
import { DAMPENING, LR, MOMENTUM, WEIGHT_DECAY, trustRatio } from "./hyperparams.js";

type Arrangement = "resident" | "resident, batched" | "resident, shared leaves" | "grads copied in" | "copy in/out" | "copy in/out per leaf";

const WASM32_LIMIT = 4 * 2 ** 30;

/** Byte offset of each leaf inside a region (16-byte aligned), and the region's size. */
function layout(tree: BenchTree): { offsets: number[]; regionBytes: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const l of tree.leaves) {
    offsets.push(at);
    at += (4 * l.size + 15) & ~15;
  }
  return { offsets, regionBytes: at };
}

function coefficients(first: boolean): LarsTreeCoefficients {
  return {
    learningRate: LR, momentum: MOMENTUM, dampening: DAMPENING, weightDecay: WEIGHT_DECAY, nesterov: false, first,
    trustRatio: (pn, gn) => trustRatio(pn, gn, WEIGHT_DECAY),
  };
}

/** One thread, a staging area of 5 × the largest leaf: copy a leaf in, step it, copy it out into new arrays. */
function setupPerLeaf(tree: BenchTree): PeerSetup {
  const largest = (4 * Math.max(...tree.leaves.map((l) => l.size)) + 15) & ~15;
  const memory = createKernelMemory(16 + 5 * largest);
  const kernel = memory && instantiateLarsLeaf(memory);
  if (memory === undefined || kernel === undefined) return { kind: "skipped", reason: "no WebAssembly in this host" };
  const [P, G, B, OP, OB] = [16, 16 + largest, 16 + 2 * largest, 16 + 3 * largest, 16 + 4 * largest] as const;
  const slots: WasmLeafSlot[][] = tree.leaves.map((l) => [{ p: P, g: G, buf: B, outP: OP, outB: OB, n: l.size }]);
  const staged = (at: number, n: number) => new Float32Array(memory.buffer, at, n);
  let params: Float32Array[] = tree.params.map((p) => p.slice());
  let buffers: Float32Array[] = tree.params.map((p) => new Float32Array(p.length));
  let first = true;
  return {
    kind: "step",
    step() {
      const k = coefficients(first);
      const nextParams: Float32Array[] = [];
      const nextBuffers: Float32Array[] = [];
      for (let j = 0; j < slots.length; j++) {
        const n = tree.leaves[j]!.size;
        staged(P, n).set(params[j]!);
        staged(G, n).set(tree.grads[j]!);
        if (!first) staged(B, n).set(buffers[j]!);
        larsTreeStepWasm(kernel, slots[j]!, k, 0);
        nextParams.push(staged(OP, n).slice());
        nextBuffers.push(staged(OB, n).slice());
      }
      params = nextParams;
      buffers = nextBuffers;
      first = false;
    },
  };
}

async function setupProbe(tree: BenchTree, arrangement: Arrangement, threads: 1 | 2): Promise<PeerSetup> {
  if (arrangement === "copy in/out per leaf") return setupPerLeaf(tree);
  const { offsets, regionBytes } = layout(tree);
  // scratch: norms (16 bytes a leaf, at least the 32 bytes of larsLeaves scratch), then two larsLeaves tables
  const normsBytes = Math.max(32, 16 * tree.leaves.length);
  const scratchBytes = (normsBytes + 2 * LEAF_RECORD_BYTES * tree.leaves.length + 15) & ~15;
  // regions: params A, params B, buffers A, buffers B, grads
  const total = scratchBytes + 5 * regionBytes;
  if (total > WASM32_LIMIT) {
    return { kind: "skipped", reason: `needs ${(total / 2 ** 30).toFixed(1)} GiB of kernel memory, over wasm32's 4 GiB` };
  }
  const memory = createKernelMemory(total);
  const kernel: LarsLeafWasm | undefined = memory && instantiateLarsLeaf(memory);
  if (memory === undefined || kernel === undefined) return { kind: "skipped", reason: "no WebAssembly in this host" };
  const region = (r: number) => scratchBytes + r * regionBytes;
  const [PA, PB, BA, BB, G] = [region(0), region(1), region(2), region(3), region(4)] as const;
  const view = (base: number, j: number) => new Float32Array(memory.buffer, base + offsets[j]!, tree.leaves[j]!.size);
  const slotsFor = (p: number, b: number, op: number, ob: number): WasmLeafSlot[] =>
    tree.leaves.map((l, j) => ({ p: p + offsets[j]!, g: G + offsets[j]!, buf: b + offsets[j]!, outP: op + offsets[j]!,
      outB: ob + offsets[j]!, n: l.size }));
  const forward = slotsFor(PA, BA, PB, BB);
  const backward = slotsFor(PB, BB, PA, BA);
  // larsLeaves tables: per direction, the caller's leaves then the helper's (all leaves on one thread);
  // shared leaves: one table, largest first
  const sizes = tree.leaves.map((l) => l.size);
  const [mine, theirs] = arrangement === "resident, shared leaves" ? [largestFirst(sizes), []]
    : threads === 2 ? splitWholeLeaves(sizes) : [tree.leaves.map((_, j) => j), []];
  const tablesAt = (direction: number) => normsBytes + direction * LEAF_RECORD_BYTES * tree.leaves.length;
  const tables = [forward, backward].map((slots, direction): [LeafTable, LeafTable] => {
    const at = tablesAt(direction);
    writeLeafTable(kernel, at, mine.map((j) => slots[j]!));
    const helperAt = at + LEAF_RECORD_BYTES * mine.length;
    writeLeafTable(kernel, helperAt, theirs.map((j) => slots[j]!));
    return [{ at, count: mine.length }, { at: helperAt, count: theirs.length }];
  });
  const helper = threads === 2 ? startLarsHelperThread(memory, tree.leaves.length) : undefined;
  const two = helper && { helper, plan: planTwoThreads(tree.leaves.map((l) => l.size)) };
  tree.params.forEach((p, j) => view(PA, j).set(p));
  tree.grads.forEach((g, j) => view(G, j).set(g));
  let first = true;
  let flip = false;
  // JS-owned state for "copy in/out"
  let jsParams: Float32Array[] = tree.params.map((p) => p.slice());
  let jsBuffers: Float32Array[] = tree.params.map((p) => new Float32Array(p.length));
  const teardown = async () => helper?.close();
  const run = (slots: WasmLeafSlot[]) => {
    larsTreeStepWasm(kernel, slots, coefficients(first), 0, two);
    first = false;
  };
  switch (arrangement) {
    case "resident, batched":
      return {
        kind: "step",
        teardown,
        step() {
          const [table, helperTable] = tables[flip ? 1 : 0]!;
          larsTreeStepWasmBatched(kernel, table, coefficients(first), 0, helper && { helper, helperTable });
          first = false;
          flip = !flip;
        },
      };
    case "resident, shared leaves":
      if (helper === undefined) return { kind: "skipped", reason: "shared leaves need the helper thread" };
      return {
        kind: "step",
        teardown,
        step() {
          larsTreeStepWasmShared(kernel, tables[flip ? 1 : 0]![0], coefficients(first), 0, helper);
          first = false;
          flip = !flip;
        },
      };
    case "resident":
    case "grads copied in":
      return {
        kind: "step",
        teardown,
        step() {
          if (arrangement === "grads copied in") for (let j = 0; j < tree.grads.length; j++) view(G, j).set(tree.grads[j]!);
          run(flip ? backward : forward);
          flip = !flip;
        },
      };
    default:
      return {
        kind: "step",
        teardown,
        step() {
          for (let j = 0; j < offsets.length; j++) {
            view(PA, j).set(jsParams[j]!);
            view(BA, j).set(jsBuffers[j]!);
            view(G, j).set(tree.grads[j]!);
          }
          run(forward);
          jsParams = jsParams.map((_, j) => view(PB, j).slice());
          jsBuffers = jsBuffers.map((_, j) => view(BB, j).slice());
        },
      };
  }
}

const TREES: readonly TreeId[] = ["resnet50", "resnet50/10", "leaves1000"];
const TOO_BIG = { resnet50x10: "5 regions of 1 GiB exceed wasm32's 4 GiB memory (needs per-leaf staging)" };

function probe(arrangement: Arrangement, threads: 1 | 2, trees: readonly TreeId[] = TREES): Peer {
  return {
    name: `wasm probe, ${arrangement}, ${threads} thread${threads === 2 ? "s" : ""}`,
    description: `WebAssembly SIMD pure LARS step, arrays ${arrangement}, ${threads} thread(s)`,
    trees,
    notOn: TOO_BIG,
    setup: (tree) => setupProbe(tree, arrangement, threads),
  };
}

export const wasmProbes: readonly Peer[] = [
  probe("resident", 1),
  probe("resident", 2),
  probe("resident, batched", 1),
  probe("resident, batched", 2),
  probe("resident, shared leaves", 2),
  probe("grads copied in", 1, ["resnet50"]),
  probe("grads copied in", 2, ["resnet50"]),
  probe("copy in/out", 1),
  probe("copy in/out", 2, ["resnet50"]),
  { ...probe("copy in/out per leaf", 1, ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"]), notOn: {} },
];
