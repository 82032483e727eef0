/**
 * The WebAssembly SIMD LARS probe (src/kernels): a pure step (old params and buffers untouched, new ones written
 * elsewhere) in three memory arrangements, on one thread or two:
 * - resident: params, buffers and grads live in kernel memory; new params/buffers go to a second copy of the
 *   regions and the two alternate (what recycling a donated or dead previous state looks like);
 * - grads copied in: as resident, but the grads arrive as JS Float32Arrays and are copied in each step;
 * - copy in/out: everything is a JS Float32Array; each step copies params, buffers and grads into kernel memory
 *   and the results out into new Float32Arrays (a pure API over JS-owned arrays).
 */
import { createKernelMemory, instantiateLarsLeaf, type LarsLeafWasm } from "../../src/kernels/lars-leaf-wasm.js";
import { startLarsHelperThread } from "../../src/kernels/lars-leaf-pool.js";
import {
  larsTreeStepWasm, planTwoThreads, type LarsTreeCoefficients, type WasmLeafSlot,
} from "../../src/kernels/lars-tree-wasm.js";
import type { Peer, PeerSetup } from "../peer.js";
import type { BenchTree, TreeId } from "../trees.js";
import { DAMPENING, LR, MOMENTUM, WEIGHT_DECAY, trustRatio } from "./hyperparams.js";

type Arrangement = "resident" | "grads copied in" | "copy in/out";

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

async function setupProbe(tree: BenchTree, arrangement: Arrangement, threads: 1 | 2): Promise<PeerSetup> {
  const { offsets, regionBytes } = layout(tree);
  const scratchBytes = (16 * tree.leaves.length + 15) & ~15;
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
    case "copy in/out":
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
  probe("grads copied in", 1, ["resnet50"]),
  probe("grads copied in", 2, ["resnet50"]),
  probe("copy in/out", 1),
  probe("copy in/out", 2, ["resnet50"]),
];
