/**
 * Issue 13's table: sgd, adam, adamw and lars in the user's loop (fresh plain-array gradients every step, pure
 * `applyStep`, after `kernelThreads(2)`), torch.optim's step of the same optimizer with `torch.set_num_threads(2)`
 * (bench/python/torch_optim_step.py, the seed's LARS for lars), `update` + `applyUpdates` (the README's first
 * loop), and users' chains: docs/composing.md's LARS with Adam moments beside adam and lars, and sgd written by a user
 * (its pieces chained, and with a momentum of the user's own in the expression form) beside the built-in sgd.
 * Hyper-parameters: sgd momentum 0.9, weight decay 5e-4, lr 0.1; adam lr 1e-3; adamw lr 1e-3, weight decay 0.01;
 * lars lr 0.1, momentum 0.9, weight decay 5e-4.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import {
  adafactor,
  adabelief,
  adam,
  adamw,
  adan,
  ademamix,
  addWeightDecay,
  applyStep,
  applyUpdates,
  chain,
  defineElementwise,
  kernelThreads,
  kernelTree,
  lars,
  lion,
  muon,
  nadamw,
  radam,
  scaleByAdam,
  scheduleFreeAdamw,
  scaleByLr,
  scaleByTrustRatio,
  sgd,
  traceMomentum,
  type GradientTransformation,
  type Tree,
} from "../../src/index.js";
import type { Peer } from "../peer.js";
import { sharedBenchDir } from "../shared-files.js";
import type { BenchTree, TreeId } from "../trees.js";
import { findTorchPython } from "./torch.js";

type Name = "sgd" | "adam" | "adamw" | "lars";

const OPTIMIZERS: { readonly [name in Name]: () => GradientTransformation<any> } = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
  adam: () => adam({ lr: 1e-3 }),
  adamw: () => adamw({ lr: 1e-3, weightDecay: 0.01 }),
  lars: () => lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};

/**
 * Issue 14's family, each with optax's defaults (lr as optax's docs suggest), in the same user's loop: the
 * elementwise ones are one fused pass per leaf; muon adds Newton–Schulz on ResNet-50's one 2-D leaf (fc.weight,
 * [1000, 2048]), which dominates its row, so it runs fewer steps.
 */
const FAMILY: readonly (readonly [string, () => GradientTransformation<any>, { steps?: number; warmup?: number }?])[] = [
  ["lion", () => lion({ lr: 1e-4 })],
  ["adabelief", () => adabelief({ lr: 1e-3 })],
  ["adan", () => adan({ lr: 1e-3 })],
  ["radam", () => radam({ lr: 1e-3 })],
  ["nadamw", () => nadamw({ lr: 1e-3 })],
  ["ademamix", () => ademamix({ lr: 1e-3 })],
  ["muon", () => muon({ lr: 0.02 }), { steps: 3, warmup: 1 }],
  ["scheduleFreeAdamw", () => scheduleFreeAdamw({ lr: 0.0025 })],
  // family-a: adafactor with optax's defaults (factors leaves whose second-largest axis is ≥ 128; not fusable)
  ["adafactor", () => adafactor({ lr: 1e-2 })],
];

/** docs/composing.md's recipe: the seed's LARS with Adam's moments in place of its momentum. */
const larsAdam = (): GradientTransformation<any> =>
  chain(addWeightDecay(1e-4), scaleByAdam({}), scaleByTrustRatio({ weightDecay: 1e-4 }), scaleByLr(1e-3));

/** sgd as a user chains it from the library's pieces (no finiteness check: sgd's refusingNonFinite is sgd's own). */
const userSgd = (): GradientTransformation<any> => chain(addWeightDecay(5e-4), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));

/** sgd with a momentum the user wrote in the expression form (docs/composing.md's heavy ball: b ← m·b + u, u′ = b). */
const heavyBall = (m: number): GradientTransformation<any> =>
  defineElementwise({
    name: "heavyBall",
    hyperparams: { m },
    state: { kind: "heavyBall", trees: { trace: true } },
    bodies: { step: { trace: "m * trace + u", u: "trace'" } },
    step: () => E.right({ body: "step", scalars: { m } }),
  });
const userSgdOwnMomentum = (): GradientTransformation<any> => chain(addWeightDecay(5e-4), heavyBall(0.9), scaleByLr(0.1));

const TREES: readonly TreeId[] = ["resnet50", "leaves1000"];

const treeOf = (tree: BenchTree, arrays: readonly Float32Array[]): Tree =>
  Object.fromEntries(tree.leaves.map((l, i) => [l.name, ndarray(arrays[i]!.slice(), [...l.shape])]));

const orThrow = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

type Path = "applyStep" | "update" | "resident" | "gradsResident" | "gradsResidentDonated";
const PATHS: { readonly [path in Path]: readonly [row: string, description: string] } = {
  applyStep: ["applyStep, fresh grads, pure, 2 threads", "pure applyStep"],
  update: ["update + applyUpdates, 2 threads", "update then applyUpdates"],
  resident: ["applyStep, fresh grads, params in kernel memory, donated, 2 threads", "params placed by kernelTree, applyStep with donate: true"],
  gradsResident: [
    "applyStep, gradients in kernel memory, pure, 2 threads",
    "the two gradient trees placed by kernelTree once (as a producer writing its gradients there would have them), pure applyStep",
  ],
  gradsResidentDonated: [
    "applyStep, gradients in kernel memory, donated, 2 threads",
    "the two gradient trees placed by kernelTree once, applyStep with donate: true (the TF.js bridge's step: it copies the gradients into kernel memory and donates)",
  ],
};

const larchRow = (
  label: string,
  make: () => GradientTransformation<any>,
  path: Path,
  trees: readonly TreeId[] = TREES,
  counts: { steps?: number; warmup?: number } = {},
): Peer => ({
  name: `larch ${label}: ${PATHS[path][0]}`,
  description: `${label}, ${path.startsWith("gradsResident") ? "two gradient trees in turn" : "the user's loop: new plain Float32Array gradients every step (two trees in turn)"}, ${PATHS[path][1]}, after kernelThreads(2)`,
  trees,
  ...counts,
  async setup(tree) {
    await kernelThreads(2);
    const opt = make();
    let params = treeOf(tree, tree.params);
    if (path === "resident") params = orThrow(kernelTree(params));
    let state = orThrow(opt.init(params));
    const plain = [treeOf(tree, tree.grads), treeOf(tree, tree.grads)];
    const grads = path.startsWith("gradsResident") ? plain.map((g) => orThrow(kernelTree(g))) : plain;
    let t = 0;
    return {
      kind: "step",
      step() {
        const g = grads[t++ % 2]!;
        if (path !== "update") [params, state] = orThrow(applyStep(opt, g, state, params, { donate: path === "resident" || path === "gradsResidentDonated" }));
        else {
          const [updates, next] = orThrow(opt.update(g, state, params));
          params = orThrow(applyUpdates(params, updates));
          state = next;
        }
      },
      async teardown() {
        await kernelThreads(1);
      },
    };
  },
});

const SCRIPT = fileURLToPath(new URL("../python/torch_optim_step.py", import.meta.url));

const torchRow = (name: Name): Peer => ({
  name: `torch.optim ${name === "lars" ? "seed LARS" : name}, 2 threads`,
  description: `${name === "lars" ? "the seed's LARS" : `torch.optim.${{ sgd: "SGD", adam: "Adam", adamw: "AdamW" }[name]}`}.step() on the CPU, torch.set_num_threads(2), fresh grads cloned in untimed`,
  trees: TREES,
  async setup(tree) {
    const found = findTorchPython();
    if ("reasons" in found) return { kind: "skipped", reason: `no python3 with torch (${found.reasons.join("; ")})` };
    const dir = mkdtempSync(join(tmpdir(), "larch-bench-"));
    const shapes = join(dir, "shapes.json");
    writeFileSync(shapes, JSON.stringify({ shapes: tree.leaves.map((l) => ({ name: l.name, shape: l.shape })) }));
    const seedDir = join(sharedBenchDir() ?? ".", "..", "seed");
    const r = spawnSync(found.python, [SCRIPT, shapes, name, "2", "10", seedDir], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (r.status !== 0) return { kind: "skipped", reason: `torch script failed: ${r.stderr.trim().split("\n").pop() ?? r.status}` };
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { torch: string; threads: number; step_ms_median: number; step_ms_min: number };
    return {
      kind: "external",
      result: { medianMs: out.step_ms_median, minMs: out.step_ms_min, steps: 10, note: `torch ${out.torch}, ${out.threads} threads` },
    };
  },
});

const NAMES: readonly Name[] = ["sgd", "adam", "adamw", "lars"];

export const optimizerPeers: readonly Peer[] = [
  ...NAMES.flatMap((name) => [
    torchRow(name),
    larchRow(name, OPTIMIZERS[name], "applyStep"),
    larchRow(name, OPTIMIZERS[name], "resident"),
    larchRow(name, OPTIMIZERS[name], "update"),
    larchRow(name, OPTIMIZERS[name], "gradsResident", ["resnet50"]),
    larchRow(name, OPTIMIZERS[name], "gradsResidentDonated", ["resnet50"]),
  ]),
  larchRow("larsAdam (docs/composing.md)", larsAdam, "applyStep"),
  larchRow("larsAdam (docs/composing.md)", larsAdam, "resident"),
  larchRow("user's sgd (the pieces chained)", userSgd, "applyStep"),
  larchRow("user's sgd (the pieces chained)", userSgd, "resident", ["resnet50"]),
  larchRow("user's sgd (own momentum, defineElementwise)", userSgdOwnMomentum, "applyStep"),
  ...FAMILY.map(([name, make, counts]) => larchRow(name, make, "applyStep", ["resnet50", "leaves1000"], counts)),
  // muon on single weight matrices: Newton–Schulz's cost alone (5 iterations of three float64 matrix products)
  larchRow("muon (one matrix)", () => muon({ lr: 0.02 }), "applyStep", ["w512x512", "w1024x4096"], { steps: 2, warmup: 1 }),
];
