/**
 * TensorFlow.js's momentum optimizer (`tf.train.momentum(0.1, 0.9)`: plain momentum, no LARS norms) on the same
 * tree, with its WebAssembly backend and with its pure-JS CPU backend. Loaded lazily so that other rows never
 * pay for importing it; its "install tfjs-node" banner is filtered out.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Peer, PeerSetup } from "../peer.js";
import type { BenchTree } from "../trees.js";
import { LR, MOMENTUM } from "./hyperparams.js";

type Backend = "wasm" | "cpu";

/** Runs `f` with console.log/warn/info lines about tfjs-node or backends dropped. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, warn: console.warn, info: console.info };
  const noisy = /tfjs-node|Hi there|backend was already registered|Platform node has already been set/;
  const filtered = (write: (...a: unknown[]) => void) => (...a: unknown[]) => {
    if (!noisy.test(a.map(String).join(" "))) write(...a);
  };
  console.log = filtered(saved.log);
  console.warn = filtered(saved.warn);
  console.info = filtered(saved.info);
  try {
    return await f();
  } finally {
    Object.assign(console, saved);
  }
}

async function setupTfjs(tree: BenchTree, backend: Backend): Promise<PeerSetup> {
  return quietly(async () => {
    const tf = await import("@tensorflow/tfjs-core");
    if (backend === "wasm") {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      const pkg = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json");
      wasm.setWasmPaths(join(dirname(pkg), "dist") + "/");
    } else {
      await import("@tensorflow/tfjs-backend-cpu");
    }
    if (!(await tf.setBackend(backend))) return { kind: "skipped", reason: `tfjs backend ${backend} failed to start` };
    await tf.ready();
    const variables = tree.params.map((p, i) => tf.variable(tf.tensor(p, [p.length], "float32"), true, `v${i}`));
    const grads = tree.grads.map((g, i) => ({ name: `v${i}`, tensor: tf.tensor(g, [g.length], "float32") }));
    const optimizer = tf.train.momentum(LR, MOMENTUM);
    const note = backend === "wasm" ? `wasm flavour: ${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD"}, ` +
      `${tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "threads" : "one thread"}` : "pure JS";
    return {
      kind: "step",
      note,
      step() {
        optimizer.applyGradients(grads);
      },
      teardown() {
        optimizer.dispose();
        variables.forEach((v) => v.dispose());
        grads.forEach((g) => g.tensor.dispose());
      },
    };
  });
}

export const tfjsWasm: Peer = {
  name: "tfjs momentum, wasm backend",
  description: "tf.train.momentum(0.1, 0.9).applyGradients on @tensorflow/tfjs-backend-wasm 4.22 (in place)",
  trees: ["resnet50", "resnet50/10", "leaves1000"],
  setup: (tree) => setupTfjs(tree, "wasm"),
};

export const tfjsCpu: Peer = {
  name: "tfjs momentum, cpu backend",
  description: "tf.train.momentum(0.1, 0.9).applyGradients on @tensorflow/tfjs-backend-cpu 4.22 (pure JS, slow)",
  trees: ["resnet50", "resnet50/10", "leaves1000"],
  steps: 3,
  warmup: 1,
  setup: (tree) => setupTfjs(tree, "cpu"),
};
