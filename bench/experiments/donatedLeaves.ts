// Profiles a 1000-leaf donated step: npx tsx bench/experiments/donatedLeaves.ts [sgd|adam|adamw|lars] [resident|plain|pure] [steps]
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { adam, adamw, applyStep, kernelThreads, kernelTree, lars, sgd, type GradientTransformation, type Tree } from "../../src/index.js";
import { buildTree } from "../trees.js";

const [name = "sgd", where = "resident", stepsArg = "3000"] = process.argv.slice(2);
const make: Record<string, () => GradientTransformation<any>> = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
  adam: () => adam({ lr: 1e-3 }),
  adamw: () => adamw({ lr: 1e-3, weightDecay: 0.01 }),
  lars: () => lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};
const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
const tree = buildTree("leaves1000");
const treeOf = (arrays: readonly Float32Array[]): Tree => Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));
await kernelThreads(2);
const opt = make[name]!();
let params = treeOf(tree.params);
if (where === "resident") params = orThrow(kernelTree(params));
let state = orThrow(opt.init(params));
const grads = [treeOf(tree.grads), treeOf(tree.grads)];
const steps = Number(stepsArg);
const times: number[] = [];
for (let t = 0; t < steps; t++) {
  const t0 = performance.now();
  [params, state] = orThrow(applyStep(opt, grads[t % 2]!, state, params, { donate: where !== "pure" }));
  times.push(performance.now() - t0);
}
const tail = times.slice(steps >> 2).sort((a, b) => a - b);
console.log(`${name} ${where}: median ${tail[tail.length >> 1]!.toFixed(3)} ms, min ${tail[0]!.toFixed(3)} ms`);
await kernelThreads(1);
