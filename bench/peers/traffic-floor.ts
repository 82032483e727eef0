/**
 * The memory-traffic floor of a LARS step: what any implementation of the seed's step must move, timed with
 * arithmetic too cheap to matter (bench/experiments/traffic-floor.wat: float32 SIMD, one thread, arrays resident in
 * WebAssembly memory, new params and buffers written beside the old ones, as a pure step). Per value: the norm pass
 * reads p and g (8 bytes), the elementwise pass reads p, g, b and writes p′, b′ (20 bytes), 28 bytes in all, where the
 * copy floor moves 8: γ needs both norms before the first value of p′ can be written, so a leaf larger than the
 * caches is read twice. Not larch's numerics: a yardstick for its kernel rows.
 */
import { readFileSync } from "node:fs";
import { compileWat } from "../../scripts/compile-wat.js";
import { createKernelMemory } from "../../src/kernels/lars-leaf-wasm.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";
import type { Peer } from "../peer.js";
import { LR, MOMENTUM, WEIGHT_DECAY } from "./hyperparams.js";

interface FloorKernel {
  sums(x: number, y: number, n: number, out: number): void;
  step(p: number, g: number, b: number, op: number, ob: number, n: number, wd: number, m: number, gamma: number, lr: number): void;
}

export const trafficFloor: Peer = {
  name: "LARS traffic floor (wasm, 1 thread)",
  description: "reads p, g for the norms, then p, g, b and writes p′, b′ (28 bytes a value), float32 SIMD: the least a LARS step moves",
  trees: ["resnet50", "resnet50/10", "leaves1000"],
  notOn: { resnet50x10: "5 regions of 1 GiB exceed wasm32's 4 GiB memory" },
  async setup(tree) {
    if (wasmApi === undefined) return { kind: "skipped", reason: "no WebAssembly in this host" };
    const padded = tree.leaves.map((l) => (4 * l.size + 15) & ~15); // whole quads: the floor kernel has no tail
    const offsets = padded.map((_, j) => padded.slice(0, j).reduce((a, b) => a + b, 0));
    const region = padded.reduce((a, b) => a + b, 0);
    const memory = createKernelMemory(64 + 5 * region);
    if (memory === undefined) return { kind: "skipped", reason: "no shared WebAssembly memory in this host" };
    const source = readFileSync(new URL("../experiments/traffic-floor.wat", import.meta.url), "utf8");
    const module = new wasmApi.Module(await compileWat("traffic-floor.wat", source));
    const k = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as FloorKernel;
    const at = (r: number, j: number) => 64 + r * region + offsets[j]!;
    const f = new Float32Array(memory.buffer);
    tree.leaves.forEach((l, j) => {
      f.set(tree.params[j]!, at(0, j) / 4);
      f.set(tree.params[j]!, at(2, j) / 4); // a buffer: any finite values
      f.set(tree.grads[j]!, at(4, j) / 4);
    });
    let from = 0; // params and buffers in regions (from, from + 2); the new ones go to the other pair, then they swap
    return {
      kind: "step",
      step() {
        const to = 1 - from;
        for (let j = 0; j < tree.leaves.length; j++) {
          const n = padded[j]! / 4;
          k.sums(at(from, j), at(4, j), n, 0);
          k.step(at(from, j), at(4, j), at(2 + from, j), at(to, j), at(2 + to, j), n, WEIGHT_DECAY, MOMENTUM, 1, LR);
        }
        from = to;
      },
    };
  },
};
