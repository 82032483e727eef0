// Record → seek → fork → diff on a small quadratic problem. Run: npx tsx examples/timetravel/tour.ts [out/tour.larch]
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import {
  applyUpdates, diffStates, diffSteps, fork, lars, openRecording, readRecording, seek, verify,
  type GradientTransformation, type Tree,
} from "larch";

const path = process.argv[2] ?? "out/tour.larch";
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

// a tiny model: minimise ½‖p − target‖², whose gradient is g = p − target
const target = { w: [1, -2, 3, -4], b: [0.5, -0.5] };
const params0: Tree = { w: ndarray(new Float32Array([0.1, 0.2, 0.3, 0.4]), [2, 2]), b: ndarray(new Float32Array([0, 0]), [2]) };
const gradOf = (p: Tree): Tree => {
  const { w, b } = p as { w: ndarray.NdArray<Float32Array>; b: ndarray.NdArray<Float32Array> };
  return {
    w: ndarray(Float32Array.from(w.data, (x, i) => x - target.w[i]!), [2, 2]),
    b: ndarray(Float32Array.from(b.data, (x, i) => x - target.b[i]!), [2]),
  };
};

/** Runs `steps` steps through a recorder from (params, state). */
const train = <S>(rec: { step: (g: Tree, s: S, p: Tree) => E.Either<{ message: string }, readonly [Tree, S]> }, params: Tree, state: S, steps: number) => {
  for (let t = 0; t < steps; t++) {
    const [updates, next] = must(rec.step(gradOf(params), state, params));
    params = must(applyUpdates(params, updates));
    state = next;
  }
  return params;
};

// 1. record 30 steps: a keyframe every 10 steps, gradients on (so any step can be sought)
const opt: GradientTransformation<any> = lars({ lr: 0.02, momentum: 0.5 });
const recorder = must(openRecording(path, opt, params0, { keyframeEvery: 10, recordGrads: true, meta: { title: "tour" } }));
train(recorder, params0, must(opt.init(params0)), 30);
must(recorder.close());

// 2. read it back and seek: the exact params and state before step 15 (keyframe 10 + 5 replayed steps)
let recording = must(readRecording(path));
const at15 = must(seek(recording, 15));
console.log("w before step 15:", Array.from((at15.params as { w: ndarray.NdArray<Float32Array> }).w.data));

// 3. fork at step 15 with half the learning rate: a new branch of the same file
const slower = lars({ lr: 0.01, momentum: 0.5 });
const branch = must(fork(recording, 15, slower));
train(branch.recorder, branch.start.params, branch.start.state, 15);
must(branch.recorder.close());
recording = must(readRecording(path));
console.log("branches:", [...recording.branches.values()].map((b) => `${b.branch} (steps ${b.forkStep}..${b.endStep - 1})`).join(", "));

// 4. diff: the two branches at step 30, and leaf w at steps 10 and 20 of the main run
const main30 = must(seek(recording, 30));
const fork30 = must(seek(recording, 30, { branch: 1 }));
for (const leaf of must(diffStates(main30, fork30)).leaves)
  console.log(`${leaf.path}: ${leaf.differing} values differ, max |a−b| ${leaf.maxAbsDiff.toExponential(2)}, first at ${leaf.firstDifferingIndex}`);
const w = must(diffSteps(recording, { step: 10 }, { step: 20 }, "w"));
console.log("w from step 10 to 20:", w.leaves.map((l) => `${l.path} ‖·‖ ${l.normA.toFixed(4)} → ${l.normB.toFixed(4)}`).join("; "));

// 5. verify: replaying both branches reproduces every step and keyframe bit for bit
console.log("verify:", must(verify(recording)).divergence === null ? "OK" : "diverges");
