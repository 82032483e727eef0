/** The copy floor: every value copied once with TypedArray.set into preallocated arrays. */
import type { Peer } from "../peer.js";

export const copyFloor: Peer = {
  name: "copy floor (TypedArray.set)",
  description: "copies every param value once into preallocated arrays: the memory-bandwidth yardstick",
  trees: ["resnet50", "resnet50/10", "resnet50x10", "leaves1000"],
  async setup(tree) {
    const targets = tree.params.map((p) => new Float32Array(p.length));
    return {
      kind: "step",
      step() {
        for (let i = 0; i < targets.length; i++) targets[i]!.set(tree.params[i]!);
      },
    };
  },
};
