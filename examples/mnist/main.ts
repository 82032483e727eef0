/**
 * `npm run example`: trains a TF.js MLP 784→256→10 on MNIST with larch's LARS through `larchOptimizer`
 * (batch 1,024, linear warm-up then polynomial decay, no weight decay on the biases), prints a line per epoch and
 * the held-out accuracy last, records the run to `out/run.larch` and renders `out/report.html` from that recording
 * (the same code as `larch report out/run.larch -o out/report.html`). The wasm backend unless LARCH_BACKEND=cpu.
 * @module
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { readRecording } from "larch";
import { writeReport } from "../../src/cli/reportFromRecording.js";
import { mnistSplit } from "./dataset.js";
import { backendFromEnv, useBackend } from "./model.js";
import { BATCH_SIZE, EPOCHS, HIDDEN, KEYFRAME_EVERY, LARS, WARMUP_EPOCHS, larsConfigFor, recordMnistRun } from "./run.js";
import { warmupThenDecay } from "./optimizer.js";
import { stepsPerEpoch } from "./train.js";

const outDir = fileURLToPath(new URL("../../out/", import.meta.url));
const recordingPath = `${outDir}run.larch`;

/** The value of a Right; for a Left, prints what failed and exits with code 1. */
const orExit = <A>(what: string, result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isRight(result)) return result.right;
  console.error(`${what}: ${result.left.message}`);
  return process.exit(1);
};

const started = performance.now();
const backend = await useBackend(backendFromEnv());
const split = mnistSplit();
const perEpoch = stepsPerEpoch(split.train.n, BATCH_SIZE);
const schedule = warmupThenDecay(larsConfigFor(perEpoch), EPOCHS * perEpoch);
console.log(
  `mnist: ${split.train.n} train / ${split.heldOut.n} held-out digits, TF.js MLP 784→${HIDDEN}→10 on ${backend}, ` +
    `lars(lr=${LARS.lr}, momentum=${LARS.momentum}, weightDecay=${LARS.weightDecay} on kernels) via larchOptimizer, ` +
    `batch ${BATCH_SIZE} (${perEpoch} steps/epoch), linear warm-up over ${WARMUP_EPOCHS} epoch then polynomial decay (power ${LARS.power}) over ${EPOCHS} epochs; ` +
    `recording to out/run.larch (keyframe every ${KEYFRAME_EVERY} steps, gradients on)`,
);

mkdirSync(outDir, { recursive: true });
const run = orExit(
  "training failed",
  await recordMnistRun(recordingPath, {
    split,
    onEpoch: (r) =>
      console.log(
        `epoch ${String(r.epoch).padStart(2)}/${EPOCHS}  loss ${r.loss.toFixed(4)}  held-out acc ${r.heldOutAccuracy.toFixed(4)}  ` +
          `lr ${schedule(r.steps - 1).toExponential(2)}  ${r.stepsPerSecond.toFixed(2)} steps/s`,
      ),
  }),
);

const recording = orExit("cannot read the recording back", readRecording(recordingPath));
orExit("report failed", writeReport(recording, `${outDir}report.html`));
console.log(
  `${run.steps} steps; wrote out/run.larch (${recording.fileBytes} bytes) and out/report.html; ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in all`,
);
console.log(`accuracy: ${run.heldOutAccuracy.toFixed(4)}`);
