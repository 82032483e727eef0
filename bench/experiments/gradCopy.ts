// What the gradients' copy costs a ResNet-50 step: npx tsx --expose-gc bench/experiments/gradCopy.ts [sgd|adam|adamw|lars] [steps] [donated|pure|update]
// Times applyStep (donated, params resident) with fresh plain gradients against the same with gradients already in
// kernel memory (kernelTree), and the plain copy of the gradients alone (TypedArray.set into one buffer).
import { applyStep, applyUpdates, kernelThreads, kernelTree, type Tree } from "../../src/index.js";
import { benchTree, OPTIMIZERS, orThrow } from "./setup.js";

const [name = "sgd", stepsArg = "20", how = "donated"] = process.argv.slice(2);
const { tree, treeOf } = benchTree("resnet50");
await kernelThreads(2);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const steps = Number(stepsArg);
const run = async (label: string, grads: Tree[]) => {
  const opt = OPTIMIZERS[name]!();
  let params = orThrow(kernelTree(treeOf(tree.params)));
  let state = orThrow(opt.init(params));
  const times: number[] = [];
  for (let t = 0; t < steps + 3; t++) {
    gc();
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    if (how === "update") {
      const [updates, next] = orThrow(opt.update(grads[t % 2]!, state, params));
      [params, state] = [orThrow(applyUpdates(params, updates)), next];
    } else [params, state] = orThrow(applyStep(opt, grads[t % 2]!, state, params, { donate: how === "donated" }));
    if (t >= 3) times.push(performance.now() - t0);
  }
  console.log(`${name} ${how} ${label}: median ${median(times).toFixed(2)} ms, min ${Math.min(...times).toFixed(2)}`);
};
await run("plain grads", [treeOf(tree.grads), treeOf(tree.grads)]);
await run("resident grads", [orThrow(kernelTree(treeOf(tree.grads))), orThrow(kernelTree(treeOf(tree.grads)))]);
const total = tree.grads.reduce((n, g) => n + g.length, 0);
const into = new Float32Array(total);
const copies: number[] = [];
for (let t = 0; t < steps; t++) {
  const t0 = performance.now();
  let at = 0;
  for (const g of tree.grads) into.set(g, at), (at += g.length);
  copies.push(performance.now() - t0);
}
console.log(`copy of the gradients alone (${total} values): median ${median(copies).toFixed(2)} ms`);
