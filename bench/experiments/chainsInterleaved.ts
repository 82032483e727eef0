// Several optimizers' pure user's loops (applyStep, fresh plain gradients, kernelThreads(2)) in one process, one step
// of each in turn with a full GC and a yield before every step, so that load hits them alike: ratios the separate
// processes of `npm run bench` (whose medians move 20-40% between runs on a shared machine) cannot give.
// npx tsx --expose-gc bench/experiments/chainsInterleaved.ts [resnet50|leaves1000] [rounds] NAME... (sgd adam adamw
// lars larsAdam userSgd; larsAdam and userSgd are bench/peers/optimizers.ts's chains)
// (GRADS=kernel in the environment: the two gradient trees placed in kernel memory once, so that no step copies them
// in, as the TF.js bridge's loop; THREADS=1: one thread)
import { addWeightDecay, applyStep, chain, kernelThreads, kernelTree, scaleByAdam, scaleByLr, scaleByTrustRatio, traceMomentum, type GradientTransformation } from "../../src/index.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import type { TreeId } from "../trees.js";
import { benchTree, OPTIMIZERS, orThrow } from "./setup.js";

const [treeId = "resnet50", roundsArg = "20", ...names] = process.argv.slice(2);
const make = {
  ...OPTIMIZERS,
  larsAdam: () => chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), scaleByLr(1e-3)),
  adamTrust: () => chain(scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), scaleByLr(1e-3)),
  wdAdam: () => chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByLr(1e-3)),
  adamLr: () => chain(scaleByAdam({}), scaleByLr(1e-3)),
  userSgd: () => chain(addWeightDecay(5e-4), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1)),
};
const chosen = names.length > 0 ? names : ["lars", "larsAdam", "adam"];
const { tree, treeOf } = benchTree(treeId as TreeId);
await kernelThreads(process.env["THREADS"] === "1" ? 1 : 2);
kernelArena()!.ownedBudget = chosen.length * 2 ** 30; // every loop's results at once
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const placed = process.env["GRADS"] === "kernel";
const grads = [treeOf(tree.grads), treeOf(tree.grads)].map((g) => (placed ? orThrow(kernelTree(g)) : g));
const runs = chosen.map((name) => {
  const opt = (make as Record<string, (() => GradientTransformation<any>) | undefined>)[name]?.();
  if (opt === undefined) throw new Error(`no optimizer ${name}: ${Object.keys(make).join(", ")}`);
  const params = treeOf(tree.params);
  return { name, opt, params, state: orThrow(opt.init(params)), times: [] as number[] };
});
const rounds = Number(roundsArg);
for (let t = 0; t < rounds + 3; t++)
  for (const r of t % 2 === 0 ? runs : [...runs].reverse()) {
    gc();
    await new Promise((done) => setImmediate(done));
    const t0 = performance.now();
    [r.params, r.state] = orThrow(applyStep(r.opt, grads[t % 2]!, r.state, r.params));
    if (t >= 3) r.times.push(performance.now() - t0);
  }
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
const first = runs[0]!;
for (const r of runs)
  console.log(
    `${r.name.padEnd(9)} median ${quantile(r.times, 0.5).toFixed(2)} ms (${(quantile(r.times, 0.5) / quantile(first.times, 0.5)).toFixed(2)}x ${first.name}), ` +
      `p10 ${quantile(r.times, 0.1).toFixed(2)} (${(quantile(r.times, 0.1) / quantile(first.times, 0.1)).toFixed(2)}x)`,
  );
