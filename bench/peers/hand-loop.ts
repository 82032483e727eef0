/**
 * The seed's algorithm as a scalar JS loop, in place: per leaf the two norms (four float64 accumulators),
 * γ, then buf ← f32(m·buf + c·d), p ← f32(p − lr·γ·buf) written over the old params and buffer.
 */
import { larsLeafStepReference, sumSquares4 } from "../../src/kernels/lars-leaf-reference.js";
import type { Peer } from "../peer.js";
import { DAMPENING, LR, MOMENTUM, WEIGHT_DECAY, trustRatio } from "./hyperparams.js";

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
          const gamma = trustRatio(Math.sqrt(sumSquares4(p)), Math.sqrt(sumSquares4(g)), WEIGHT_DECAY);
          larsLeafStepReference(p, g, buffers[i]!, {
            weightDecay: WEIGHT_DECAY, momentum: MOMENTUM, bufferScale: 1 - DAMPENING, trustRatio: gamma,
            learningRate: LR, first, nesterov: false,
          }, p, buffers[i]!);
        }
        first = false;
      },
    };
  },
};
