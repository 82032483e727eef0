// Per step of a ResNet-50 sgd loop (update + applyUpdates, or pure applyStep): time, kernel memory (top, size, owned), RSS, minor page faults.
// npx tsx --expose-gc bench/experiments/memoryTop.ts [update|pure] [steps]
import { applyUpdates, applyStep, kernelThreads, kernelTree } from "../../src/index.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import { benchTree, OPTIMIZERS, orThrow } from "./setup.js";

const how = process.argv[2] ?? "update";
const { tree, treeOf } = benchTree("resnet50");
await kernelThreads(2);
const gc = (globalThis as { gc?: () => void }).gc!;
const opt = OPTIMIZERS["sgd"]!();
let params = orThrow(kernelTree(treeOf(tree.params)));
let state = orThrow(opt.init(params));
const grads = [treeOf(tree.grads), treeOf(tree.grads)];
const a = kernelArena()!;
for (let t = 0; t < Number(process.argv[3] ?? 12); t++) {
  gc();
  await new Promise((r) => setImmediate(r));
  const f0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  if (how === "update") {
    const [u, next] = orThrow(opt.update(grads[t % 2]!, state, params));
    [params, state] = [orThrow(applyUpdates(params, u)), next];
  } else [params, state] = orThrow(applyStep(opt, grads[t % 2]!, state, params));
  const ms = performance.now() - t0;
  console.log(`${how} step ${t}: ${ms.toFixed(1)} ms, top ${(a.end / 2 ** 20).toFixed(0)} MiB, memory ${(a.memory.buffer.byteLength / 2 ** 20).toFixed(0)} MiB, owned ${(a.ownedInUse / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)}, minor faults ${process.resourceUsage().minorPageFault - f0}`);
}
