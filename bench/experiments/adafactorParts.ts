/**
 * Where adafactor's step goes on the ResNet-50 tree: each member alone (update on the updates the member before it
 * returned), and the whole applyStep. `npx tsx bench/experiments/adafactorParts.ts [bytes-out-file]`; with a file
 * argument it also writes the bytes of two steps' params and state (for a before/after byte comparison).
 */
import { writeFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { adafactor, applyStep, clipByBlockRms, denseValues, isLeaf, kernelThreads, scaleByFactoredRms, type Tree } from "../../src/index.js";
import { buildTree } from "../trees.js";

const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
const tree = buildTree("resnet50");
const treeOf = (arrays: readonly Float32Array[]): Tree => Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));
const time = (label: string, n: number, f: () => void) => {
  f();
  const t: number[] = [];
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} median ${t[Math.floor(n / 2)]!.toFixed(1)} ms  min ${t[0]!.toFixed(1)}`);
};

await kernelThreads(2);
const params = treeOf(tree.params);
const grads = treeOf(tree.grads);
const rms = scaleByFactoredRms();
const rs = orThrow(rms.init(params));
const [u1] = orThrow(rms.update(grads, rs, params));
time("scaleByFactoredRms.update", 5, () => void orThrow(rms.update(grads, rs, params)));
const clip = clipByBlockRms(1);
time("clipByBlockRms.update", 5, () => void orThrow(clip.update(u1, orThrow(clip.init(params)), params)));
const opt = adafactor({ lr: 1e-2 });
let state = orThrow(opt.init(params));
let p = params;
time("adafactor applyStep", 5, () => void ([p, state] = orThrow(applyStep(opt, grads, state, p))));

const out = process.argv[2];
if (out !== undefined) {
  // three steps from init on random trees (float32 and float64; factored both ways, equal dims, 3-D, small), as bytes
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const shapes = [[130, 7], [5, 200], [64, 3, 7, 7], [128, 128], [3, 130, 129], [7], [1], [2, 129, 1, 131], [130, 129, 3, 2], [129, 130, 2], [2, 3, 129, 130]];
  const bytes: Buffer[] = [];
  const walk = (x: unknown): void => {
    if (isLeaf(x)) {
      const v = denseValues(x);
      bytes.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    } else if (typeof x === "object" && x !== null) for (const k of Object.keys(x).sort()) walk((x as Record<string, unknown>)[k]);
    else bytes.push(Buffer.from(String(x)));
  };
  for (const dtype of [Float32Array, Float64Array])
    for (const o of [
      () => adafactor({ lr: 1e-2 }),
      () => adafactor({ lr: 1e-2, momentum: 0.9, weightDecayRate: 1e-3, minDimSizeToFactor: 2, clippingThreshold: 0.01 }),
      () => adafactor({ decayOffset: 0, decayRate: 0.5, multiplyByParameterScale: false, eps: 1e-3 }),
    ]) {
      const values = (n: number, scale: number) => {
        const x = new dtype(n);
        for (let k = 0; k < n; k++) x[k] = scale * rand();
        return x;
      };
      const make = (scale: number): Tree =>
        Object.fromEntries(shapes.map((sh, i) => [`l${i}`, ndarray(values(sh.reduce((a, b) => a * b, 1), scale), sh)])) as unknown as Tree;
      const opt = o();
      let q = make(1);
      let s = orThrow(opt.init(q));
      for (let t = 0; t < 3; t++) {
        const g = make(0.1 * (t + 1));
        const [u, next] = orThrow(opt.update(g, s, q));
        walk(u);
        [q, s] = orThrow(applyStep(opt, g, s, q));
        walk([q, s, next]);
      }
    }
  writeFileSync(out, Buffer.concat(bytes));
  console.log(`wrote ${out} (${bytes.reduce((n, b) => n + b.length, 0)} bytes)`);
}
await kernelThreads(1);
