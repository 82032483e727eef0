/**
 * The memory-traffic floor of a LARS step: what any implementation of the seed's step must move, timed with
 * arithmetic too cheap to matter (bench/experiments/traffic-floor.wat: float32 SIMD, one thread, arrays resident in
 * WebAssembly memory, new params and buffers written beside the old ones, as a pure step). Per value: the norm pass
 * reads p and g (8 bytes), the elementwise pass reads p, g, b and writes p′, b′ (20 bytes), 28 bytes in all, where the
 * copy floor moves 8: γ needs both norms before the first value of p′ can be written, so a leaf larger than the
 * caches is read twice. Not larch's numerics: a yardstick for its kernel rows. On two threads, a helper worker runs
 * the same module over the same memory on its own whole leaves (largest first, alternating), synchronised by
 * Atomics.wait/notify once a step.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { compileWat } from "../../scripts/compile-wat.js";
import { createKernelMemory } from "../../src/kernels/kernelMemory.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";
import type { Peer } from "../peer.js";
import { LR, MOMENTUM, WEIGHT_DECAY } from "./hyperparams.js";

interface FloorKernel {
  sums(x: number, y: number, n: number, out: number): void;
  step(p: number, g: number, b: number, op: number, ob: number, n: number, wd: number, m: number, gamma: number, lr: number): void;
}

/** The helper thread: waits for a step (control[0] changes), runs its leaves in direction control[2], acknowledges in control[1]. */
const HELPER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, jobs } = workerData;
const ctl = new Int32Array(control);
const { sums, step } = new WebAssembly.Instance(module, { env: { memory } }).exports;
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  for (const j of jobs[ctl[2]]) { sums(j[0], j[1], j[5], 0); step(j[0], j[1], j[2], j[3], j[4], j[5], j[6], j[7], 1, j[8]); }
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}`;

const floorPeer = (threads: 1 | 2): Peer => ({
  name: `LARS traffic floor (wasm, ${threads} thread${threads === 2 ? "s" : ""})`,
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
    // a leaf's job in each direction: p, g, b, p′, b′, n, wd, m, lr (params and buffers in regions (from, from + 2);
    // the new ones go to the other pair, then they swap)
    const job = (from: number, j: number) =>
      [at(from, j), at(4, j), at(2 + from, j), at(1 - from, j), at(3 - from, j), padded[j]! / 4, WEIGHT_DECAY, MOMENTUM, LR];
    const order = tree.leaves.map((_, j) => j).sort((a, b) => padded[b]! - padded[a]!);
    const mine = threads === 2 ? order.filter((_, r) => r % 2 === 0) : order;
    const theirs = threads === 2 ? order.filter((_, r) => r % 2 === 1) : [];
    const myJobs = [0, 1].map((from) => mine.map((j) => job(from, j)));
    const control = new Int32Array(new SharedArrayBuffer(12));
    const helper = theirs.length === 0 ? undefined : new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: { module, memory, control: control.buffer, jobs: [0, 1].map((from) => theirs.map((j) => job(from, j))) },
    });
    let from = 0;
    let sequence = 0;
    return {
      kind: "step",
      step() {
        if (helper !== undefined) {
          control[2] = from;
          Atomics.store(control, 0, ++sequence);
          Atomics.notify(control, 0);
        }
        for (const j of myJobs[from]!) {
          k.sums(j[0]!, j[1]!, j[5]!, 0);
          k.step(j[0]!, j[1]!, j[2]!, j[3]!, j[4]!, j[5]!, j[6]!, j[7]!, 1, j[8]!);
        }
        // wait with the value just compared: a second load could read the acknowledgement and then sleep past its notify
        if (helper !== undefined) for (let s = Atomics.load(control, 1); s !== sequence; s = Atomics.load(control, 1)) Atomics.wait(control, 1, s);
        from = 1 - from;
      },
      async teardown() {
        if (helper === undefined) return;
        Atomics.store(control, 0, -1);
        Atomics.notify(control, 0);
        await helper.terminate();
      },
    };
  },
});

export const trafficFloors: readonly Peer[] = [floorPeer(1), floorPeer(2)];
