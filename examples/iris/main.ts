/**
 * `npm run example`: trains a 4→16→3 tanh MLP on Fisher's iris data with LARS (no weight decay on the
 * biases) and a polynomial learning-rate schedule, prints a line per epoch and the held-out accuracy,
 * and writes `out/report.html`.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import type { ReportData, ReportStep } from "../../src/report/report-data.js";
import { renderReport } from "../../src/report/render.js";
import { loadIris } from "./dataset.js";
import { accuracy, initMlp, loss } from "./mlp.js";
import { mulberry32 } from "./prng.js";
import { flatten, dtypeOf, stepStats, type Tree } from "larch";
import type { LeafStepStats, ReportLeaf } from "../../src/report/report-data.js";
import { type TrainConfig, makeOptimizer, totalSteps, train } from "./train.js";

const SEED = 2017;
const config: TrainConfig = { epochs: 20, batchSize: 16, lr: 0.005, power: 2, momentum: 0.9, weightDecay: 1e-3 };
const hidden = 16;

const outDir = fileURLToPath(new URL("../../out/", import.meta.url));
const split = loadIris(mulberry32(SEED));
const initial = initMlp(mulberry32(SEED + 1), { input: split.train.d, hidden, classes: split.classNames.length });
const steps = totalSteps(config, split.train.n);
const { optimizer, schedule } = makeOptimizer(config, steps);

/** The leaves of a tree as the report lists them. */
const reportLeaves = (params: Tree): ReportLeaf[] => {
  const flat = flatten(params);
  if (E.isLeft(flat)) return [];
  return flat.right.paths.map((path, i) => ({ path, shape: [...flat.right.leaves[i]!.shape], dtype: dtypeOf(flat.right.leaves[i]!) }));
};

const fixed = (x: number, digits: number) => x.toFixed(digits);
console.log(
  `iris: ${split.train.n} train / ${split.test.n} test flowers, MLP 4→${hidden}→3, ` +
    `lars(lr=${config.lr}, momentum=${config.momentum}, weightDecay=${config.weightDecay} on weights), ` +
    `polynomial decay over ${steps} steps`,
);

const recorded: ReportStep[] = [];
let epochStart = performance.now();
let epochFirstStep = 0;
const started = performance.now();
const result = train(split.train, initial, optimizer, schedule, config, mulberry32(SEED + 2), {
  onStep: (s) => {
    const stats = stepStats(s.params, s.grads, s.updates, s.state);
    if (E.isLeft(stats)) throw new Error(stats.left.message);
    const leaves: LeafStepStats[] = reportLeaves(s.params).map(({ path }) => stats.right.leaves[path]!);
    recorded.push({ step: s.step, loss: s.loss, accuracy: s.accuracy, lr: stats.right.lr ?? s.lr, leaves });
  },
  onEpoch: (e) => {
    const now = performance.now();
    const rate = ((e.steps - epochFirstStep) / (now - epochStart)) * 1000;
    console.log(
      `epoch ${String(e.epoch + 1).padStart(2)}/${config.epochs}  loss ${fixed(e.loss, 4)}  ` +
        `train acc ${fixed(accuracy(e.params, split.train), 3)}  test loss ${fixed(loss(e.params, split.test), 4)}  ` +
        `lr ${schedule(e.steps).toExponential(2)}  ${Math.round(rate)} steps/s`,
    );
    epochStart = now;
    epochFirstStep = e.steps;
  },
});

if (E.isLeft(result)) {
  console.error(`training failed: ${result.left.message}`);
  process.exit(1);
}
const seconds = (performance.now() - started) / 1000;
console.log(`${result.right.steps} steps in ${seconds.toFixed(2)} s`);

const data: ReportData = {
  version: 1,
  run: {
    title: `iris · MLP 4→${hidden}→3 · seed ${SEED}`,
    optimizer: "partition(decay: lars, noDecay: lars) + polynomialDecay",
    hyperparams: {
      lr: config.lr,
      power: config.power,
      totalSteps: steps,
      momentum: config.momentum,
      "decay.weightDecay": config.weightDecay,
      "noDecay.weightDecay": 0,
      batchSize: config.batchSize,
      epochs: config.epochs,
      labels: "weights → decay, biases → noDecay",
    },
  },
  leaves: reportLeaves(initial),
  steps: recorded,
};
const html = renderReport(data);
if (E.isLeft(html)) {
  console.error(`report failed: ${html.left.message}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}report.html`, html.right);
console.log(`wrote out/report.html`);
console.log(`accuracy: ${accuracy(result.right.params, split.test).toFixed(2)}`);
