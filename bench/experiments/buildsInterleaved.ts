// Two or more builds of larch (their dist directories, `npm run build` in each worktree) in one process, the user's
// pure loop on the 1000-leaf tree in interleaved batches of 50 steps (the order flipped every round), so that load
// hits every build alike: before/after numbers a shared machine does not skew. Prints each build's median, first
// quartile and fastest batch mean, and whether its params after the run have the first build's bits.
// npx tsx bench/experiments/buildsInterleaved.ts [sgd|adam|adamw|lars] [rounds] DIST_A DIST_B ...
// (DONATE=1 in the environment: the donated loop, each step handing its params and state over to the next)
// Each dist must sit in a package.json with "type": "module" (a worktree's own dist): tsx turns a module outside one
// into CommonJS, every call between modules then a getter's, and the step runs twice as slow.
import ndarray from "ndarray";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildTree } from "../trees.js";

type Larch = typeof import("../../src/index.js");

const [name = "sgd", roundsArg = "100", ...dists] = process.argv.slice(2);
if (dists.length === 0) throw new Error("usage: buildsInterleaved.ts OPTIMIZER ROUNDS DIST_A [DIST_B ...]");
const rounds = Number(roundsArg);
const donate = process.env["DONATE"] === "1";
const tree = buildTree("leaves1000");
const treeOf = (arrays: readonly Float32Array[]) =>
  Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));

interface Runner {
  readonly dist: string;
  readonly L: Larch;
  readonly step: () => void;
  readonly means: number[];
  readonly params: () => unknown;
}
const runners: Runner[] = [];
for (const dist of dists) {
  const L = (await import(pathToFileURL(resolve(dist, "index.js")).href)) as Larch;
  const make = {
    sgd: () => L.sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
    adam: () => L.adam({ lr: 1e-3 }),
    adamw: () => L.adamw({ lr: 1e-3, weightDecay: 0.01 }),
    lars: () => L.lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
  }[name as "sgd"];
  await L.kernelThreads(2);
  const opt = make();
  let params: unknown = treeOf(tree.params);
  let state: unknown = (opt.init(params as never) as { right: unknown }).right;
  const grads = [treeOf(tree.grads), treeOf(tree.grads)];
  let t = 0;
  const step = () => {
    const r = L.applyStep(opt, grads[t++ % 2]!, state as never, params as never, { donate });
    if (r._tag === "Left") throw new Error(r.left.message);
    [params, state] = r.right;
  };
  runners.push({ dist, L, step, means: [] as number[], params: () => params });
}
for (const r of runners) for (let i = 0; i < 1500; i++) r.step(); // the same steps for each, so the same bits
for (let k = 0; k < rounds; k++)
  for (const r of k % 2 === 0 ? runners : [...runners].reverse()) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) r.step();
    r.means.push((performance.now() - t0) / 50);
  }
const leavesOf = (r: Runner) => (r.L.flatten(r.params()) as { right: { leaves: readonly { data: Float32Array }[] } }).right.leaves;
const first = leavesOf(runners[0]!);
for (const r of runners) {
  const m = [...r.means].sort((a, b) => a - b);
  const same = leavesOf(r).every((l, i) => l.data.every((v, j) => Object.is(v, first[i]!.data[j])));
  console.log(`${name}${donate ? " donated" : ""} ${r.dist}: median ${m[m.length >> 1]!.toFixed(3)} ms, q1 ${m[m.length >> 2]!.toFixed(3)}, min ${m[0]!.toFixed(3)}${same ? "" : ", bits differ from the first build"}`);
}
for (const r of runners) await r.L.kernelThreads(1);
