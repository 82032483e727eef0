/**
 * The seed's algorithm as a scalar JS loop, in place: per leaf the two norms (four float64 accumulators),
 * γ, then buf ← f32(m·buf + c·d), p ← f32(p − lr·γ·buf) written over the old params and buffer.
 */
import { sumOfSquares } from "../../src/core/norm.js";
import type { Peer } from "../peer.js";
import { DAMPENING, LR, MOMENTUM, WEIGHT_DECAY, trustRatio } from "./hyperparams.js";

/**
 * One leaf in place, f32(·) rounding to float32: d = f32(g + wd·p); b = first ? d : f32(m·b + c·d);
 * o = f32(γ·b); o = f32((−lr)·o); p = f32(p + o).
 */
const stepLeaf = (p: Float32Array, g: Float32Array, b: Float32Array, gamma: number, first: boolean): void => {
  const fround = Math.fround;
  const c = 1 - DAMPENING;
  for (let i = 0; i < p.length; i++) {
    const d = fround(g[i]! + WEIGHT_DECAY * p[i]!);
    const m = first ? d : fround(MOMENTUM * b[i]! + c * d);
    b[i] = m;
    p[i] = p[i]! + fround(-LR * fround(gamma * m));
  }
};

export const handLoop: Peer = {
  name: "hand loop, in place (JS)",
  description: "scalar JS loop of the seed's step mutating params and momentum buffers",
  trees: ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"],
  async setup(tree) {
    const params = tree.params.map((p) => p.slice());
    const buffers = tree.params.map((p) => new Float32Array(p.length));
    let first = true;
    return {
      kind: "step",
      step() {
        for (let i = 0; i < params.length; i++) {
          const p = params[i]!;
          const g = tree.grads[i]!;
          stepLeaf(p, g, buffers[i]!, trustRatio(Math.sqrt(sumOfSquares(p)), Math.sqrt(sumOfSquares(g)), WEIGHT_DECAY), first);
        }
        first = false;
      },
    };
  },
};
