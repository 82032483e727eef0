// One thread, no step around it: ResNet-50's leaves, Σg² and Σp² of every leaf (the norm pass lars needs) and then
// the generated sgd pass over every leaf, against each leaf's sums followed at once by its pass (its g and p then
// read again from the cache, where they fit). Writing beside (a pure step) or in place (a donated one).
// npx tsx bench/experiments/normsThenPass.ts
import * as E from "fp-ts/lib/Either.js";
import { parseBody, type Body } from "../../src/core/expression.js";
import { passLayout, passModule } from "../../src/kernels/compileWasm.js";
import { createKernelMemory } from "../../src/kernels/kernelMemory.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";
import { buildTree } from "../trees.js";

const body = (name: string, states: string[], source: { [target: string]: string }): Body => {
  const b = parseBody(name, states, source);
  if (E.isLeft(b)) throw new Error(b.left.message);
  return b.right;
};
const sgd = [body("wd", [], { u: "u + wd * p" }), body("trace", ["trace"], { trace: "m * trace + c * u", u: "trace'" }), body("lr", [], { u: "-alpha * u" })];
const sizes = buildTree("resnet50").leaves.map((l) => l.size);
const n = sizes.reduce((a, b) => a + b, 0);
const CHUNK = 1 << 16, BASE = 1 << 16;
const memory = createKernelMemory(BASE + 5 * 4 * n + (1 << 20))!;
const at = (k: number) => BASE + 4 * n * k; // 0 g, 1 p, 2 p′, 3 b, 4 b′
const sums = at(5);
new Float32Array(memory.buffer).fill(0.5, BASE / 4);
const layout = passLayout(sgd);
const exports = new wasmApi!.Instance(new wasmApi!.Module(passModule(sgd, "apply", false)), { env: { memory } }).exports;
const pass = exports["pass"] as (r: number, lo: number, hi: number, flag: number) => void;
const sumsq2 = exports["sumsq2"] as (x: number, y: number, n: number, out: number) => void;
const i32 = new Int32Array(memory.buffer);
const f64 = new Float64Array(memory.buffer);
const record = 0;
const runLeaf = (offset: number, size: number, where: "beside" | "in place") => {
  const o = 4 * offset;
  const pointers = where === "beside" ? [at(0), at(0), at(1), at(2), at(3), at(4)] : [at(0), at(0), at(1), at(1), at(3), at(3)];
  i32.set(pointers.map((p) => p + o), record / 4);
  f64.set([5e-4, 0.9, 1, 0.1], (record + layout.scalarsAt) / 8);
  for (let lo = 0; lo < size; lo += CHUNK) pass(record, lo, Math.min(size, lo + CHUNK), 0);
};
const norms = (offset: number, size: number, k: number) => sumsq2(at(0) + 4 * offset, at(1) + 4 * offset, size, sums + 16 * k);
const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
const orders = {
  "all sums, then all passes": (where: "beside" | "in place") => {
    sizes.forEach((s, k) => norms(offsets[k]!, s, k));
    sizes.forEach((s, k) => runLeaf(offsets[k]!, s, where));
  },
  "each leaf's sums, then its pass": (where: "beside" | "in place") => sizes.forEach((s, k) => (norms(offsets[k]!, s, k), runLeaf(offsets[k]!, s, where))),
};
const times = new Map<string, number[]>();
for (let round = 0; round < 9; round++)
  for (const where of ["beside", "in place"] as const)
    for (const [name, run] of round % 2 === 0 ? Object.entries(orders) : Object.entries(orders).reverse()) {
      const t0 = performance.now();
      run(where);
      const key = `${name}, ${where}`;
      times.set(key, [...(times.get(key) ?? []), performance.now() - t0]);
    }
for (const [key, ts] of times) console.log(`${key}: median ${ts.sort((a, b) => a - b)[4]!.toFixed(1)} ms, min ${ts[0]!.toFixed(1)}`);
