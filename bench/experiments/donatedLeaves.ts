// Profiles a 1000-leaf donated step: npx tsx bench/experiments/donatedLeaves.ts [sgd|adam|adamw|lars] [resident|plain|pure] [steps]
import { applyStep, kernelThreads, kernelTree } from "../../src/index.js";
import { benchTree, OPTIMIZERS, orThrow } from "./setup.js";

const [name = "sgd", where = "resident", stepsArg = "3000"] = process.argv.slice(2);
const { tree, treeOf } = benchTree("leaves1000");
await kernelThreads(2);
const opt = OPTIMIZERS[name]!();
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
