// Run by high-addresses.test.ts in a process of its own (a helper that hangs would block the test's thread): the
// helper thread takes tasks from a table above 2 GiB of kernel memory, summing arrays that lie there too.
import * as E from "fp-ts/lib/Either.js";
import { parseBody } from "../../src/core/expression.js";
import { passModule, TASK_INTS } from "../../src/kernels/compileWasm.js";
import { createKernelMemory } from "../../src/kernels/kernelMemory.js";
import { startPassHelperThread } from "../../src/kernels/passThreads.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";

const body = parseBody("copy", [], { u: "u" });
if (E.isLeft(body) || wasmApi === undefined) throw new Error("no pass");
const memory = createKernelMemory(1 << 16)!;
memory.grow(2 ** 15 + 2); // 2 GiB and two pages more: addresses from 2³¹ on are negative as int32
const module = new wasmApi.Module(passModule([body.right], "update"));
const k = new wasmApi.Instance(module, { env: { memory } }).exports as { sumsq(x: number, n: number, out: number): void };
const helper = startPassHelperThread(memory);
const id = helper.idOf(module);
const base = 2 ** 31 + 1024, tasks = 8, n = 1000;
const table = base, data = base + 4096, sums = base + 64 * 1024;
const f32 = new Float32Array(memory.buffer), f64 = new Float64Array(memory.buffer), i32 = new Int32Array(memory.buffer);
for (let j = 0; j < tasks; j++) {
  for (let i = 0; i < n; i++) f32[(data + 4 * n * j) / 4 + i] = j + i / n;
  i32.set([id, 1, data + 4 * n * j, n, sums + 8 * j, 0], table / 4 + TASK_INTS * j); // sumsq(x, n, out)
}
let onMain = 0;
helper.share(table, tasks, (j) => {
  onMain++;
  const o = table / 4 + TASK_INTS * j;
  k.sumsq(i32[o + 2]!, i32[o + 3]!, i32[o + 4]!);
  for (const until = performance.now() + 20; performance.now() < until; ); // slow, so that the helper takes some
});
const expected = Array.from({ length: tasks }, (_, j) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.fround(j + i / n) ** 2;
  return s;
});
const wrong = expected.findIndex((s, j) => Math.abs(f64[(sums + 8 * j) / 8]! - s) > 1e-9 * s);
console.log(JSON.stringify({ onHelper: tasks - onMain, wrong }));
await helper.close();
