// Where the WebAssembly pass starts to beat the generated JavaScript: donated sgd and adam steps over trees of L leaves of n values, each way.
// npx tsx bench/experiments/crossover.ts [threads] [LxN,LxN,...]
import ndarray from "ndarray";
import { applyStep, kernelThreads, type Tree } from "../../src/index.js";
import { compiledMinValues } from "../../src/kernels/compiledStep.js";
import { OPTIMIZERS, orThrow } from "./setup.js";

await kernelThreads(process.argv[2] === "2" ? 2 : 1);
const shapes: [number, number][] = (process.argv[3] ?? "1x1000,4x1000,10x1000,1x8000,10x3000,4x16000").split(",").map((s) => s.split("x").map(Number) as [number, number]);
for (const [leaves, size] of shapes) {
  const tree = (seed: number): Tree => Object.fromEntries(Array.from({ length: leaves }, (_, i) => [`l${i}`, ndarray(Float32Array.from({ length: size }, (_, k) => Math.sin(seed + i * 7 + k)), [size])]));
  const row: string[] = [];
  for (const wasm of [false, true]) for (const name of ["sgd", "adam"]) {
    const prev = compiledMinValues(wasm ? 0 : 2 ** 40);
    const opt = OPTIMIZERS[name]!();
    let params = tree(1);
    let state = orThrow(opt.init(params));
    const g = [tree(2), tree(3)];
    const times: number[] = [];
    for (let t = 0; t < 400; t++) {
      const t0 = performance.now();
      [params, state] = orThrow(applyStep(opt, g[t % 2]!, state, params, { donate: true }));
      if (t >= 100) times.push(performance.now() - t0);
    }
    compiledMinValues(prev);
    times.sort((a, b) => a - b);
    row.push(`${wasm ? "wasm" : "js"} ${name} ${times[times.length >> 1]!.toFixed(3)}`);
  }
  console.log(`${leaves} x ${size}: ${row.join(", ")} ms`);
}
