/**
 * A/B of WebAssembly step kernels on one 25.5 M-value leaf: the bits each writes (compared with the first) and the
 * CPU time of `step`, alternating kernels. Each argument is a .wat (compiled here with wabt) or a .wasm file whose
 * module imports env.memory (shared) and exports `step` with the signature of src/kernels/lars-leaf.wat.
 * Usage: npx tsx bench/experiments/kernel-ab.ts src/kernels/lars-leaf.wat bench/experiments/float32-step.wat
 */
import { readFileSync } from "node:fs";
import { compileWat } from "../../scripts/compile-wat.js";

type Step = (p: number, g: number, b: number, op: number, ob: number, n: number,
  wd: number, m: number, c: number, gamma: number, lr: number, flags: number) => void;

const files = process.argv.slice(2);
const n = 25_557_032 & ~3;
const R = 4 * n;
const base = 1024;
const regions = 3 + 2 * files.length;
const WA = (globalThis as unknown as { WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer };
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: { step: Step } } }>;
} }).WebAssembly;
const memory = new WA.Memory({ initial: Math.ceil((regions * R + base) / 65536), maximum: 65536, shared: true });
const f = new Float32Array(memory.buffer);
for (let i = base / 4; i < base / 4 + 3 * n; i++) f[i] = Math.random() - 0.5;

const steps: Step[] = [];
for (const file of files) {
  const bytes = file.endsWith(".wasm") ? readFileSync(file) : await compileWat(file, readFileSync(file, "utf8"));
  steps.push((await WA.instantiate(bytes, { env: { memory } })).instance.exports.step);
}
const out = (v: number) => base + (3 + 2 * v) * R;
steps.forEach((step, v) => step(base, base + R, base + 2 * R, out(v), out(v) + R, n, 5e-4, 0.9, 1, 1.3, 0.1, 0));
const u = new Uint32Array(memory.buffer);
steps.forEach((_, v) => {
  let diff = 0;
  for (let i = 0; i < 2 * n; i++) if (u[out(v) / 4 + i] !== u[out(0) / 4 + i]) diff++;
  console.log(`${files[v]}: ${diff} of ${2 * n} output values differ from ${files[0]}`);
});
for (let round = 0; round < 4; round++) {
  steps.forEach((step, v) => {
    const c0 = process.cpuUsage();
    for (let r = 0; r < 5; r++) step(base, base + R, base + 2 * R, out(v), out(v) + R, n, 5e-4, 0.9, 1, 1.3, 0.1, 0);
    const c = process.cpuUsage(c0);
    console.log(`${files[v]}: step ${((c.user + c.system) / 5000).toFixed(1)} ms CPU`);
  });
}
