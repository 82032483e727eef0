// One thread, no step around it: the generated sgd pass (addWeightDecay, traceMomentum, scaleByLr) and a copy-only
// body over 25.6 M float32 values, writing beside the inputs (as a pure step does) or over them (a donated one).
// npx tsx bench/experiments/inPlace.ts
import * as E from "fp-ts/lib/Either.js";
import { parseBody, type Body } from "../../src/core/expression.js";
import { passLayout, passModule } from "../../src/kernels/compileWasm.js";
import { createKernelMemory } from "../../src/kernels/kernelMemory.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";

const body = (name: string, states: string[], source: { [target: string]: string }): Body => {
  const b = parseBody(name, states, source);
  if (E.isLeft(b)) throw new Error(b.left.message);
  return b.right;
};
const sgd = [body("wd", [], { u: "u + wd * p" }), body("trace", ["trace"], { trace: "m * trace + c * u", u: "trace'" }), body("lr", [], { u: "-alpha * u" })];
const copy = [body("copy", ["s"], { s: "s", u: "u" })];
const n = 25_600_000, CHUNK = 1 << 16, BASE = 1 << 16;
const memory = createKernelMemory(BASE + 5 * 4 * n)!;
const at = (k: number) => BASE + 4 * n * k; // 0 g, 1 p, 2 p′, 3 b, 4 b′
new Float32Array(memory.buffer).fill(0.5, BASE / 4);
// scalars in member then slot order: wd; m, c; alpha (the bench's sgd), none for the copy
for (const [name, bodies, scalars] of [["sgd pass", sgd, [5e-4, 0.9, 1, 0.1]], ["copy-only body", copy, []]] as const)
  for (const where of ["beside", "in place"] as const) {
    const layout = passLayout(bodies);
    const pass = new wasmApi!.Instance(new wasmApi!.Module(passModule(bodies, "apply", true)), { env: { memory } }).exports["pass"] as (r: number, lo: number, hi: number, flag: number) => void;
    // the record at 0: u, g, p, p′, then the state's old and new values; its scalars; the flag word after it
    const pointers = where === "beside" ? [at(0), at(0), at(1), at(2), at(3), at(4)] : [at(0), at(0), at(1), at(1), at(3), at(3)];
    new Int32Array(memory.buffer).set(pointers, 0);
    new Float64Array(memory.buffer, layout.scalarsAt, layout.scalars).set(scalars);
    const times: number[] = [];
    for (let round = 0; round < 7; round++) {
      const t0 = performance.now();
      for (let lo = 0; lo < n; lo += CHUNK) pass(0, lo, Math.min(n, lo + CHUNK), layout.recordBytes);
      times.push(performance.now() - t0);
    }
    console.log(`${name}, ${where}: ${times.sort((a, b) => a - b)[3]!.toFixed(1)} ms (median of 7)`);
  }
