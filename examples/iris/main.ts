/**
 * `npm run example`: trains a 4→16→3 tanh MLP on Fisher's iris data with LARS (no weight decay on the
 * biases) and a polynomial learning-rate schedule, prints a line per epoch and the held-out accuracy,
 * records the run to `out/run.larch` (keyframes every 20 steps, gradients on) and renders `out/report.html`
 * from that recording, by the same code as `larch report out/run.larch -o out/report.html`.
 * @module
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { readRecording } from "larch";
import { writeReport } from "../../src/cli/reportFromRecording.js";
import { accuracy, loss } from "./mlp.js";
import { HIDDEN, KEYFRAME_EVERY, config, irisSplit, recordIrisRun } from "./recordedRun.js";
import { makeOptimizer, totalSteps } from "./train.js";

const outDir = fileURLToPath(new URL("../../out/", import.meta.url));
const recordingPath = `${outDir}run.larch`;

/** The value of a Right; for a Left, prints what failed and exits with code 1. */
const orExit = <A>(what: string, result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isRight(result)) return result.right;
  console.error(`${what}: ${result.left.message}`);
  return process.exit(1);
};

const fixed = (x: number, digits: number) => x.toFixed(digits);
const split = irisSplit();
const steps = totalSteps(config, split.train.n);
const { schedule } = makeOptimizer(config, steps);
console.log(
  `iris: ${split.train.n} train / ${split.test.n} test flowers, MLP 4→${HIDDEN}→3, ` +
    `lars(lr=${config.lr}, momentum=${config.momentum}, weightDecay=${config.weightDecay} on weights), ` +
    `polynomial decay over ${steps} steps; recording to out/run.larch (keyframe every ${KEYFRAME_EVERY} steps, gradients on)`,
);

mkdirSync(outDir, { recursive: true });
let epochStart = performance.now();
let epochFirstStep = 0;
const started = performance.now();
const trained = orExit(
  "training failed",
  recordIrisRun(recordingPath, (e) => {
    const now = performance.now();
    const rate = ((e.steps - epochFirstStep) / (now - epochStart)) * 1000;
    console.log(
      `epoch ${String(e.epoch + 1).padStart(2)}/${config.epochs}  loss ${fixed(e.loss, 4)}  ` +
        `train acc ${fixed(accuracy(e.params, split.train), 3)}  test loss ${fixed(loss(e.params, split.test), 4)}  ` +
        `lr ${schedule(e.steps).toExponential(2)}  ${Math.round(rate)} steps/s`,
    );
    epochStart = now;
    epochFirstStep = e.steps;
  }),
);
const seconds = (performance.now() - started) / 1000;
console.log(`${trained.steps} steps in ${seconds.toFixed(2)} s`);

const recording = orExit("cannot read the recording back", readRecording(recordingPath));
orExit("report failed", writeReport(recording, `${outDir}report.html`));
console.log(`wrote out/run.larch (${recording.fileBytes} bytes) and out/report.html`);
console.log(`accuracy: ${accuracy(trained.params, split.test).toFixed(2)}`);
