/**
 * larch's own step through the public API: `applyStep(lars(...), grads, state, params)` on float32 ndarray trees,
 * which runs the WebAssembly pass generated from lars()'s chain (params, grads and buffers copied into kernel memory, the results copied
 * out). Pure: every step returns new arrays and the old tree stays valid; donated: `{ donate: true }`, the results
 * are written into the old params' and buffers' storage. Resident: the params (and grads) placed in kernel memory
 * once with kernelTree, so the step reads them in place and writes its outputs there (donated: into the same
 * regions; pure: into new regions, which return to the allocator when the GC has collected the old tree and the
 * program yields, so that row's step awaits one macrotask first, as an async training loop would). "2 threads":
 * kernelThreads(2), a helper thread sharing the passes (in ranges) and the norms (by leaf) of steps of 1 M values or more.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { applyStep, kernelThreads, kernelTree, lars, type ChainState, type GradientTransformation, type Tree } from "../../src/index.js";
import type { Peer } from "../peer.js";
import type { BenchTree } from "../trees.js";
import { LR, MOMENTUM, WEIGHT_DECAY } from "./hyperparams.js";

const treeOf = (tree: BenchTree, arrays: readonly Float32Array[]): Tree =>
  Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));

type Residency = "none" | "params" | "params and grads";

const resident = (tree: Tree): Tree => {
  const placed = kernelTree(tree);
  if (E.isLeft(placed)) throw new Error(placed.left.message);
  return placed.right;
};

function larchWasm(donate: boolean, residency: Residency = "none", threads: 1 | 2 = 1): Peer {
  const where = residency === "none" ? "" : residency === "params" ? "resident params, " : "resident params and grads, ";
  return {
    name: `larch applyStep, wasm kernel, ${where}${donate ? "donated" : "pure"}${threads === 2 ? ", 2 threads" : ""}`,
    description:
      (donate
        ? "applyStep(lars(), …, { donate: true })"
        : "applyStep(lars(), …)") +
      (residency === "none"
        ? donate
          ? ": copy in, kernel, copy out into the donated params and buffers"
          : ": copy in, kernel, copy out into new Float32Arrays (inputs untouched)"
        : residency === "params"
          ? " on params in kernel memory (kernelTree), JS grads copied in"
          : " on params and grads in kernel memory (kernelTree)"),
    trees: ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"],
    async setup(tree) {
      if (threads === 2 && (await kernelThreads(2)) !== 2) return { kind: "skipped", reason: "no helper thread on this host" };
      const opt: GradientTransformation<ChainState> = lars({ lr: LR, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY });
      const jsGrads = treeOf(tree, tree.grads);
      const grads = residency === "params and grads" ? resident(jsGrads) : jsGrads;
      let params = residency === "none" ? treeOf(tree, tree.params) : resident(treeOf(tree, tree.params));
      const init = opt.init(params);
      if (E.isLeft(init)) throw new Error(init.left.message);
      let state = init.right;
      const step = () => {
        const next = applyStep(opt, grads, state, params, { donate });
        if (E.isLeft(next)) throw new Error(next.left.message);
        [params, state] = next.right;
      };
      const yieldThenStep = async () => {
        await new Promise((resolve) => setImmediate(resolve)); // collected regions return to the allocator
        step();
      };
      return {
        kind: "step",
        step: residency !== "none" && !donate ? yieldThenStep : step,
      };
    },
  };
}

export const larchWasmPeers: readonly Peer[] = [
  larchWasm(false),
  larchWasm(true),
  larchWasm(false, "params"),
  larchWasm(true, "params"),
  larchWasm(false, "params and grads"),
  larchWasm(true, "params and grads"),
  larchWasm(true, "none", 2),
  larchWasm(false, "params and grads", 2),
  larchWasm(true, "params and grads", 2),
];
