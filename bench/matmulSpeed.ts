/**
 * Matrix products and Newton–Schulz (muon's cost) in JavaScript and WebAssembly (a benchmark, not a test).
 *
 *   npm run bench:matmul [-- repeats]
 *
 * Cases: A·B of 512×512 matrices; X·Xᵀ of X [1000, 2048] (symmetric: half the sums); B·X of [1000, 1000] by
 * [1000, 2048] (the third product of every Newton–Schulz iteration); newtonSchulz of a float32 [1000, 2048] (5
 * iterations, ResNet-50's fc.weight), each through the core's JavaScript product and the kernels' WebAssembly on
 * one and two threads (kernelThreads), after two warm-up runs. Prints one JSON line per case and path: median and min
 * ms, G multiply-adds/s, the 1-minute load average. Run it under `flock /tmp/larch-bench.lock`.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { loadavg } from "node:os";
import type { Leaf } from "../src/core/leaf.js";
import { matmul } from "../src/core/matmul.js";
import { matrixProduct, type MatrixProduct } from "../src/core/matrixProduct.js";
import { kernelThreads } from "../src/kernels/kernelMemory.js";
import { wasmProduct } from "../src/kernels/matmulWasm.js";
import { newtonSchulz } from "../src/transforms/newtonSchulz.js";

const repeats = Number(process.argv[2] ?? 5);

const leaf = (rows: number, cols: number, seed: number): Leaf => {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 2;
  return ndarray(data, [rows, cols]) as Leaf;
};

const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

const x512 = leaf(512, 512, 1);
const y512 = leaf(512, 512, 2);
const x = leaf(1000, 2048, 3);
const b = orThrow(matmul(leaf(1000, 1000, 4), leaf(1000, 1000, 4), { transposeB: true })); // symmetric, as Newton–Schulz's B
const cases: readonly (readonly [name: string, multiplyAdds: number, run: (p: MatrixProduct) => unknown])[] = [
  ["A·B, 512×512 by 512×512", 512 ** 3, (p) => orThrow(matmul(x512, y512, {}, p))],
  ["X·Xᵀ, X [1000, 2048] (symmetric)", (1000 * 2048 * 1000) / 2, (p) => orThrow(matmul(x, x, { transposeB: true }, p))],
  ["B·X, [1000, 1000] by [1000, 2048]", 1000 * 1000 * 2048, (p) => orThrow(matmul(b, x, {}, p))],
  ["newtonSchulz [1000, 2048], 5 steps", 5 * (1000 * 2048 * 1000 * 1.5 + 1000 ** 3 / 2), (p) => orThrow(newtonSchulz(x, { steps: 5 }, p))],
];

const paths: readonly (readonly [name: string, product: MatrixProduct, threads: 1 | 2])[] = [
  ["JavaScript", matrixProduct, 1],
  ["WebAssembly, 1 thread", wasmProduct, 1],
  ["WebAssembly, 2 threads", wasmProduct, 2],
];

for (const [name, work, run] of cases)
  for (const [path, product, threads] of paths) {
    const got = await kernelThreads(threads);
    for (let w = 0; w < 2; w++) run(product); // warm-up: compiles, grows kernel memory, and lets both threads' code tier up
    const ms: number[] = [];
    const times = path === "JavaScript" && work > 1e10 ? Math.min(repeats, 2) : repeats;
    const load = loadavg()[0]!;
    for (let r = 0; r < times; r++) {
      const t0 = performance.now();
      run(product);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, c) => a - c);
    const median = ms[Math.floor(ms.length / 2)]!;
    console.log(JSON.stringify({ case: name, path, threads: got, repeats: times, medianMs: +median.toFixed(1), minMs: +ms[0]!.toFixed(1), gMulAddsPerS: +(work / median / 1e6).toFixed(2), load1: +load.toFixed(2) }));
  }
await kernelThreads(1);
