/**
 * `npm run study`: does LARS hold its accuracy at large batch? The example's MLP on the example's MNIST split,
 * trained with `lars`, `sgd` (momentum, linear lr scaling) and `adamw` (square-root lr scaling) at batch sizes
 * 128, 512, 2,048 and 8,000 (the whole training set), the same epochs for every run, fixed seeds, every
 * optimizer run by larch through `larchOptimizer`. Writes `out/study.json` and `out/study.html`; a progress bar on
 * stderr. `--epochs N` changes the epochs of every run (default {@link EPOCHS}).
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SPLIT_SEED, mnistSplit } from "../mnist/dataset.js";
import { backendFromEnv, useBackend } from "../mnist/model.js";
import { BATCH_SIZE, HIDDEN, INIT_SEED, LARS, SHUFFLE_SEED } from "../mnist/run.js";
import { studyPage } from "./page.js";
import { progressWriter } from "./progress.js";
import { DECAY_POWER, WARMUP_FRACTION, adamwRecipe, larsRecipe, sgdRecipe } from "./recipes.js";
import { BATCH_SIZES, type Study, runStudy } from "./study.js";

/** Epochs of every run: what fits the whole study (12 runs) in about 15 minutes on two cores shared with other work (load ~13). */
export const EPOCHS = 5;

/** The recipes (lars from the example's tuning at batch 1,024); their tuning is written into the JSON and the page. */
export const RECIPES = [larsRecipe(LARS.lr, BATCH_SIZE, LARS.momentum, LARS.weightDecay), sgdRecipe(0.05, 128), adamwRecipe(1e-3, 128)];

const epochsArg = (): number => {
  const i = process.argv.indexOf("--epochs");
  const n = i >= 0 ? Number(process.argv[i + 1]) : EPOCHS;
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--epochs wants a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return n;
};

const outDir = fileURLToPath(new URL("../../out/", import.meta.url));
const epochs = epochsArg();
const backend = await useBackend(backendFromEnv());
const split = mnistSplit();
const progress = progressWriter();
const started = performance.now();
const runs = await runStudy({
  split,
  recipes: RECIPES,
  batchSizes: BATCH_SIZES,
  epochs,
  hidden: HIDDEN,
  initSeed: INIT_SEED,
  shuffleSeed: SHUFFLE_SEED,
  onProgress: (p) =>
    progress.update(
      p.done,
      p.total,
      `${p.optimizer} B=${p.batchSize} epoch ${p.epoch}/${p.epochs}${p.lastAccuracy === undefined ? "" : ` acc ${p.lastAccuracy.toFixed(4)}`}`,
    ),
});
progress.finish();

const study: Study = {
  title: "Does LARS hold accuracy at large batch? MNIST, MLP, larch through TF.js",
  dataset: `MNIST (mnist 1.1.0): ${split.train.n} train / ${split.heldOut.n} held out, seeded stratified split`,
  model: `MLP 784→${HIDDEN}→10 (relu), softmax cross-entropy`,
  epochs,
  seeds: { split: SPLIT_SEED, init: INIT_SEED, shuffle: SHUFFLE_SEED },
  backend,
  schedule: `linear warm-up from 0 over the first ${100 * WARMUP_FRACTION} % of the steps (at least one), then polynomial decay (power ${DECAY_POWER}) to 0; no weight decay on biases`,
  recipes: RECIPES.map((r) => ({ name: r.name, tuning: r.tuning, fixed: r.fixed })),
  runs,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}study.json`, JSON.stringify(study, null, 2) + "\n");
writeFileSync(`${outDir}study.html`, studyPage(study));

const names = RECIPES.map((r) => r.name);
console.log(`batch     ${names.map((n) => n.padStart(8)).join("")}`);
for (const b of BATCH_SIZES)
  console.log(
    `${String(b).padEnd(10)}${names.map((n) => (100 * (runs.find((r) => r.optimizer === n && r.batchSize === b)?.heldOutAccuracy ?? NaN)).toFixed(2).padStart(8)).join("")}`,
  );
console.log(`wrote out/study.json and out/study.html (${((performance.now() - started) / 1000).toFixed(0)} s)`);
