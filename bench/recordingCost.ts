/**
 * What a recording costs (a benchmark, not a test).
 *
 *   npx tsx bench/recordingCost.ts [shapes.json]
 *
 * 1. The iris example's run (examples/iris): file bytes per step with and without gradients, split into
 *    stats, gradient and keyframe frames; time to seek a step (worst case: K − 1 steps after a keyframe).
 * 2. A ResNet-50-sized tree (the shared shapes, float32, 161 leaves, 25.6 M values) stepped by lars() with
 *    stats only (no gradients, no keyframes in between): bytes per step and ms per step, with and without
 *    recording; then the time to seek a step 3 after a keyframe with gradients recorded.
 * Prints JSON lines.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { applyUpdates, lars, openRecording, readRecording, seek, type GradientTransformation, type Leaf, type Tree } from "../src/index.js";
import { recordIrisRun } from "../examples/iris/recordedRun.js";
import { FRAME_OVERHEAD, STEP_PREFIX_BYTES } from "../src/timetravel/recordingLayout.js";
import { statsBodyBytes } from "../src/timetravel/statsFrame.js";

const dir = mkdtempSync(join(tmpdir(), "larch-bench-"));
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
const time = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

// 1. iris
const irisPath = join(dir, "iris.larch");
must(recordIrisRun(irisPath));
const iris = must(readRecording(irisPath));
const main = iris.branches.get(0)!;
const statsFrame = FRAME_OVERHEAD + STEP_PREFIX_BYTES + statsBodyBytes(iris.header.leaves.length);
const seekMs: number[] = [];
for (let r = 0; r < 5; r++) seekMs.push(time(() => must(seek(iris, main.keyframeSteps[1]! - 1))));
const irisFile = statSync(irisPath).size;
const noGradsPath = join(dir, "iris-nograds.larch");
must(recordIrisRun(noGradsPath, undefined, false));
const noGradsFile = statSync(noGradsPath).size;
console.log(
  JSON.stringify({
    case: "iris example",
    leaves: iris.header.leaves.length,
    steps: main.endStep,
    keyframes: main.keyframeSteps.length,
    fileBytes: irisFile,
    bytesPerStepWithGrads: +(irisFile / main.endStep).toFixed(1),
    fileBytesWithoutGrads: noGradsFile,
    bytesPerStepWithoutGrads: +(noGradsFile / main.endStep).toFixed(1),
    // the headers differ by one byte ("recordGrads":true is shorter than false)
    gradFrameBytes: (irisFile - noGradsFile + 1) / main.endStep,
    statsFrameBytes: statsFrame,
    seekWorstCaseMs: +[...seekMs].sort((a, b) => a - b)[2]!.toFixed(2),
  }),
);

// 2. ResNet-50-sized tree
const shapesPath = process.argv[2] ?? "/work/shared/bench/resnet50-shapes.json";
const { shapes } = JSON.parse(readFileSync(shapesPath, "utf8")) as { shapes: { name: string; shape: number[] }[] };
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 1e-2;
const tree = (): Tree => {
  const root: Record<string, unknown> = {};
  for (const { name, shape } of shapes) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = rand();
    const parts = name.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = ndarray(data, [...shape]) as Leaf;
  }
  return root as Tree;
};
const params0 = tree();
const grads = tree();
const opt: GradientTransformation<any> = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
const STEPS = 5;
const runSteps = (step: (p: Tree, s: unknown) => readonly [Tree, unknown]): number => {
  let p = params0;
  let s: unknown = must(opt.init(params0));
  let t0 = 0;
  for (let t = 0; t < STEPS; t++) {
    if (t === 1) t0 = performance.now(); // step 0 writes the recording's first keyframe: timed apart
    const [u, next] = step(p, s);
    p = must(applyUpdates(p, u));
    s = next;
  }
  return (performance.now() - t0) / (STEPS - 1);
};
const plainMs = runSteps((p, s) => must(opt.update(grads, s, p)));
const resnetPath = join(dir, "resnet.larch");
const rec = must(openRecording(resnetPath, opt, params0, { keyframeEvery: 1000, recordGrads: false }));
let afterFirst = 0;
const recordedMs = runSteps((p, s) => {
  const out = must(rec.step(grads, s, p));
  if (afterFirst === 0) afterFirst = statSync(resnetPath).size;
  return out;
});
const beforeClose = statSync(resnetPath).size;
must(rec.close());
console.log(
  JSON.stringify({
    case: "ResNet-50 tree, stats only",
    leaves: shapes.length,
    bytesPerStep: (beforeClose - afterFirst) / (STEPS - 1),
    statsFrameBytes: FRAME_OVERHEAD + STEP_PREFIX_BYTES + statsBodyBytes(shapes.length),
    keyframeBytes: afterFirst - (FRAME_OVERHEAD + STEP_PREFIX_BYTES + statsBodyBytes(shapes.length)),
    msPerStepPlain: +plainMs.toFixed(1),
    msPerStepRecorded: +recordedMs.toFixed(1),
  }),
);
// seek with gradients: keyframe at 0, seek step 3 (3 replayed steps)
const gradsPath = join(dir, "resnet-grads.larch");
const rec2 = must(openRecording(gradsPath, opt, params0, { keyframeEvery: 1000, recordGrads: true }));
let p = params0;
let s: unknown = must(opt.init(params0));
for (let t = 0; t < 4; t++) {
  const [u, next] = must(rec2.step(grads, s, p));
  p = must(applyUpdates(p, u));
  s = next;
}
must(rec2.close());
const r2 = must(readRecording(gradsPath));
const seekKeyframe = time(() => must(seek(r2, 0)));
const seek3 = time(() => must(seek(r2, 3)));
console.log(
  JSON.stringify({
    case: "ResNet-50 tree, gradients on",
    bytesPerStepWithGrads: Math.round((statSync(gradsPath).size - 2 * (afterFirst - statsFrameOf(shapes.length))) / 4),
    seekKeyframeMs: Math.round(seekKeyframe),
    seekThreeStepsAfterKeyframeMs: Math.round(seek3),
  }),
);

function statsFrameOf(n: number): number {
  return FRAME_OVERHEAD + STEP_PREFIX_BYTES + statsBodyBytes(n);
}
