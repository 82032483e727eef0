/**
 * What the TF.js bridge (larch/tfjs) costs per step (a benchmark, not a test).
 *
 *   npx tsx bench/tfjsBridge.ts [--backend cpu|wasm] [--tree resnet50|mlp] [--steps N]
 *
 * For a ResNet-50-sized variable set (the shared shapes: 161 float32 tensors, 25.6 M values) and a small MLP
 * (784→256→10, 4 tensors, 203 k values), on TF.js's cpu and wasm backends, the median ms of:
 * - copy in: each gradient and variable read once (`dataSync()`) into a new Float32Array (what a step does);
 * - copy in, kernel memory: the same copies made straight into the WebAssembly kernel's memory (`kernelTree`'s arena);
 * - copy out: each variable assigned its new values (one `tf.tensor` + `assign` + dispose each);
 * - applyStep: lars()'s step itself on the copied trees (plain arrays, or in kernel memory);
 * - larchOptimizer: one whole `applyGradients` (the sum of the above, as the bridge runs it);
 * - tf.train.momentum: TF.js's own `applyGradients`, for scale (plain momentum: no norms, no trust ratio).
 * Prints one JSON line per (backend, tree): each time as { median, min } ms. Timings of a shared machine: run it alone, `flock` it.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { applyStep, lars, type Leaf, type Tree } from "../src/index.js";
import { kernelArena } from "../src/kernels/kernelMemory.js";
import { larchOptimizer } from "../src/tfjs/index.js";
import { assignLeaf, leafFromTensor, nestLeaves } from "../src/tfjs/tensors.js";
import { collector } from "./measure.js";
import { buildTree, type BenchTree } from "./trees.js";

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const backends = (arg("--backend") ?? "cpu,wasm").split(",") as ("cpu" | "wasm")[];
const trees = (arg("--tree") ?? "mlp,resnet50").split(",");
const stepsArg = arg("--steps");

/** console output of TF.js about tfjs-node and backends, dropped */
const noisy = /tfjs-node|Hi there|backend was already registered|Platform node has already been set|={10,}/;
for (const k of ["log", "warn", "info"] as const) {
  const write = console[k].bind(console);
  console[k] = (...a: unknown[]) => void (noisy.test(a.map(String).join(" ")) ? undefined : write(...a));
}

const tf = await import("@tensorflow/tfjs");
const wasm = await import("@tensorflow/tfjs-backend-wasm");
wasm.setWasmPaths(join(dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/");

const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

const mlpTree = (): BenchTree => {
  const shapes: [string, number[]][] = [["dense1.kernel", [784, 256]], ["dense1.bias", [256]], ["dense2.kernel", [256, 10]], ["dense2.bias", [10]]];
  const leaves = shapes.map(([name, shape]) => ({ name, shape, size: shape.reduce((a, b) => a * b, 1) }));
  const seeded = (n: number, seed: number, scale: number) => Float32Array.from({ length: n }, (_, i) => scale * Math.sin(seed * 7919 + i * 0.37));
  return {
    id: "leaves1000", description: "MLP 784→256→10", leaves,
    params: leaves.map((l, i) => seeded(l.size, 1 + 2 * i, 0.1)), grads: leaves.map((l, i) => seeded(l.size, 2 + 2 * i, 0.01)),
    values: leaves.reduce((s, l) => s + l.size, 0),
  };
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const gc = collector();
/** Median and least ms of `steps` timed calls after one warm-up, a GC before each (outside the timing). */
const timed = async (steps: number, f: () => void): Promise<{ median: number; min: number }> => {
  f();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    gc();
    await new Promise((r) => setImmediate(r)); // let finalizers return kernel memory
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return { median: Number(median(ms).toFixed(2)), min: Number(Math.min(...ms).toFixed(2)) };
};

const arena = kernelArena();
const inKernel = (n: number): Float32Array | undefined => arena?.ownedArray(n);

for (const backend of backends) {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  for (const treeId of trees) {
    const tree = treeId === "mlp" ? mlpTree() : buildTree("resnet50");
    const steps = Number(stepsArg ?? (backend === "cpu" && treeId === "resnet50" ? 3 : treeId === "mlp" ? 30 : 10));
    const prefix = `${backend}${treeId}`;
    const names = tree.leaves.map((l) => `${prefix}/${l.name.replace(/\./g, "/")}`);
    const entries = names.map((name) => ({ segments: name.split("/") }));
    const variables = tree.params.map((p, i) => tf.variable(tf.tensor(p, [...tree.leaves[i]!.shape], "float32"), true, names[i]));
    const grads: Record<string, import("@tensorflow/tfjs").Tensor> = Object.fromEntries(tree.grads.map((g, i) => [names[i]!, tf.tensor(g, [...tree.leaves[i]!.shape], "float32")]));
    const gradList = names.map((n) => grads[n]!);

    const copyIn = (storage?: (n: number) => Float32Array | undefined) => ({
      g: must(nestLeaves(entries, gradList.map((t) => leafFromTensor(t, storage)))),
      p: must(nestLeaves(entries, variables.map((v) => leafFromTensor(v, storage)))),
    });
    const opt = lars({ lr: 1e-3, momentum: 0.9, weightDecay: 5e-4 });
    const first = copyIn();
    const [p1, s1] = must(applyStep(opt, first.g, must(opt.init(first.p)), first.p)); // a steady state: momentum buffers exist
    const plain = copyIn();
    const kernel = copyIn(inKernel);
    const outLeaves = names.map((n) => n.split("/").reduce<unknown>((t, k) => (t as Record<string, unknown>)[k], p1) as Leaf);

    const result: Record<string, unknown> = { backend, tree: tree.description, tensors: tree.leaves.length, values: tree.values, steps };
    result["copyInMs"] = await timed(steps, () => void copyIn());
    result["copyInKernelMs"] = await timed(steps, () => void copyIn(inKernel));
    result["copyOutMs"] = await timed(steps, () => variables.forEach((v, i) => assignLeaf(v, outLeaves[i]!, true)));
    result["applyStepMs"] = await timed(steps, () => void must(applyStep(opt, plain.g, s1, plain.p as Tree)));
    result["applyStepKernelMs"] = await timed(steps, () => void must(applyStep(opt, kernel.g, s1, kernel.p as Tree)));
    const bridge = larchOptimizer(lars({ lr: 1e-3, momentum: 0.9, weightDecay: 5e-4 }));
    result["larchOptimizerMs"] = await timed(steps, () => bridge.applyGradients(grads));
    const momentum = tf.train.momentum(1e-3, 0.9);
    result["tfMomentumMs"] = await timed(steps, () => momentum.applyGradients(grads as never));
    result["numTensorsStable"] = (() => {
      const before = tf.memory().numTensors;
      bridge.applyGradients(grads);
      return tf.memory().numTensors === before;
    })();
    console.log(JSON.stringify(result));
    momentum.dispose();
    tf.dispose([...variables, ...gradList]);
  }
}
