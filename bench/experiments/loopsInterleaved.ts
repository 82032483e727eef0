// The three loops of one optimizer in one process, in interleaved rounds (so load hits them alike): pure applyStep,
// donated applyStep and update + applyUpdates, fresh plain gradients every step, after kernelThreads(2).
// npx tsx --expose-gc bench/experiments/loopsInterleaved.ts [sgd|adam|adamw|lars] [rounds]
import { applyStep, applyUpdates, kernelThreads } from "../../src/index.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import { benchTree, OPTIMIZERS, orThrow } from "./setup.js";

const [name = "sgd", roundsArg = "20"] = process.argv.slice(2);
const { tree, treeOf } = benchTree("resnet50");
await kernelThreads(2);
// three loops' results at once: room for all of them (one loop alone stays within the default 1 GiB)
kernelArena()!.ownedBudget = 3 * 2 ** 30;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const grads = [treeOf(tree.grads), treeOf(tree.grads)];
const loops = ["pure", "donated", "update"] as const;
const runs = loops.map(() => {
  const opt = OPTIMIZERS[name]!();
  const params = treeOf(tree.params);
  return { opt, params, state: orThrow(opt.init(params)), times: [] as number[] };
});
const rounds = Number(roundsArg);
for (let t = 0; t < rounds + 3; t++)
  for (const [k, how] of loops.entries()) {
    const r = runs[k]!;
    gc();
    await new Promise((done) => setImmediate(done));
    const t0 = performance.now();
    if (how === "update") {
      const [u, next] = orThrow(r.opt.update(grads[t % 2]!, r.state, r.params));
      [r.params, r.state] = [orThrow(applyUpdates(r.params, u)), next];
    } else [r.params, r.state] = orThrow(applyStep(r.opt, grads[t % 2]!, r.state, r.params, { donate: how === "donated" }));
    if (t >= 3) r.times.push(performance.now() - t0);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const pure = median(runs[0]!.times);
console.log(loops.map((how, k) => `${name} ${how}: ${median(runs[k]!.times).toFixed(1)} ms (${(median(runs[k]!.times) / pure).toFixed(2)}x pure)`).join("; "));
