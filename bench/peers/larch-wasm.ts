/**
 * larch's own step through the public API: `applyStep(lars(...), grads, state, params)` on float32 ndarray trees,
 * which runs lars()'s WebAssembly kernel (params, grads and buffers copied into kernel memory, the results copied
 * out). Pure: every step returns new arrays and the old tree stays valid; donated: `{ donate: true }`, the results
 * are written into the old params' and buffers' storage.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { applyStep, lars, type ChainState, type GradientTransformation, type Tree } from "../../src/index.js";
import type { Peer } from "../peer.js";
import type { BenchTree } from "../trees.js";
import { LR, MOMENTUM, WEIGHT_DECAY } from "./hyperparams.js";

const treeOf = (tree: BenchTree, arrays: readonly Float32Array[]): Tree =>
  Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));

function larchWasm(donate: boolean): Peer {
  return {
    name: `larch applyStep, wasm kernel, ${donate ? "donated" : "pure"}`,
    description: donate
      ? "applyStep(lars(), …, { donate: true }): copy in, kernel, copy out into the donated params and buffers"
      : "applyStep(lars(), …): copy in, kernel, copy out into new Float32Arrays (inputs untouched)",
    trees: ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"],
    async setup(tree) {
      const lars_ = lars({ lr: LR, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY });
      const accelerated = lars_.accelerated;
      if (accelerated === undefined) return { kind: "skipped", reason: "lars() has no WebAssembly step on this host" };
      let declined = 0;
      const opt: GradientTransformation<ChainState> = {
        ...lars_,
        accelerated: (g, s, p, d) => {
          const r = accelerated(g, s, p, d);
          if (r === undefined) declined++;
          return r;
        },
      };
      const grads = treeOf(tree, tree.grads);
      let params = treeOf(tree, tree.params);
      const init = opt.init(params);
      if (E.isLeft(init)) throw new Error(init.left.message);
      let state = init.right;
      return {
        kind: "step",
        get note() {
          return declined > 0 ? `the kernel declined ${declined} steps (generic JS path)` : undefined;
        },
        step() {
          const next = applyStep(opt, grads, state, params, { donate });
          if (E.isLeft(next)) throw new Error(next.left.message);
          [params, state] = next.right;
        },
      };
    },
  };
}

export const larchWasmPeers: readonly Peer[] = [larchWasm(false), larchWasm(true)];
