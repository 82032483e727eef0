/**
 * Replay and verify: re-run every branch of a recording from its first keyframe with its recorded gradients and
 * check that each step's numbers and each keyframe come out bit for bit as recorded.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "../core/caught.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import { diffStates, type LeafDiff, type ScalarDiff } from "./diffStates.js";
import { ARITHMETIC } from "./recordingLayout.js";
import type { Recording, UnreadTail } from "./recordingReader.js";
import { optimizerFor, replayStep, type RunPoint } from "./seek.js";
import type { RecordedStep } from "./statsFrame.js";
import { stepStats } from "./stepStats.js";
import { recordingArg, transformationArg } from "./timeTravelArgs.js";

/** Where a replay first differs from its recording. */
export interface Divergence {
  readonly branch: number;
  readonly step: number;
  /** The leaf (a params path, or a path inside `{ params, state }` for a keyframe), or "" for the step's lr. */
  readonly path: string;
  readonly message: string;
}

/** What {@link verify} checked in one branch. */
export interface BranchCheck {
  readonly branch: number;
  /** Steps replayed and compared (0 when the branch has no gradients). */
  readonly stepsReplayed: number;
  readonly keyframesCompared: number;
  /**
   * True when steps and keyframes were compared bit for bit; false for a branch recorded by a larch of another
   * arithmetic (see {@link ARITHMETIC}) with float32 leaves, compared within float32 rounding ({@link ROUNDING}).
   */
  readonly exact: boolean;
  /** Why steps were not replayed, when they were not, or why they were not compared bit for bit. */
  readonly note: string | null;
}

/**
 * How close a replay of another arithmetic's recording must come: |a − b| ≤ ROUNDING·max(1, |a|) for every number
 * (a value within it by its absolute or by its relative difference passes), about 80 float32 ulps.
 */
export const ROUNDING = 1e-5;

/** The outcome: every branch's checks, and the first divergence if any (null when the recording replays exactly). */
export interface VerifyReport {
  readonly branches: readonly BranchCheck[];
  readonly divergence: Divergence | null;
  /**
   * What was not verified because it could not be read (a recording read with allowTruncated that ends in a
   * cut-short frame): from which byte, how many bytes, how many steps they hold. null when the whole file was read.
   */
  readonly unread: UnreadTail | null;
}

const same = (a: number | null, b: number | null): boolean => (a === null || b === null ? a === b : Object.is(a, b));
/** Equal, or (for another arithmetic's recording) within {@link ROUNDING} of each other. */
const close = (a: number | null, b: number | null): boolean =>
  same(a, b) || (a !== null && b !== null && Math.abs(a - b) <= ROUNDING * Math.max(1, Math.abs(a)));

/** The first number of step `replayed` that differs from `recorded`, as (path, what). */
const statsDifference = (paths: readonly string[], recorded: RecordedStep, replayed: ReturnType<typeof stepStats>, exact: boolean): [string, string] | undefined => {
  if (E.isLeft(replayed)) return ["", replayed.left.message];
  const r = replayed.right;
  const same_ = exact ? same : close;
  if (!same_(recorded.lr, r.lr)) return ["", `lr recorded ${recorded.lr}, replayed ${r.lr}`];
  for (let i = 0; i < paths.length; i++) {
    const want = recorded.leaves[i]!;
    const got = r.leaves[paths[i]!]!;
    for (const key of ["paramNorm", "gradNorm", "trustRatio", "updateNorm", "momentumNorm"] as const)
      if (!same_(want[key], got[key])) return [paths[i]!, `${key} recorded ${want[key]}, replayed ${got[key]}`];
  }
  return undefined;
};

/**
 * Replays each branch from its first keyframe with its recorded gradients through its optimizer (given in
 * `optimizers` by branch id, else rebuilt from the recorded spec) and compares, step by step, the recorded numbers
 * (lr, and per leaf ‖p‖, ‖g‖, γ, ‖u‖, ‖b‖) and every keyframe, bit for bit (a branch that an earlier larch, of
 * another arithmetic, recorded with float32 leaves: within float32 rounding, {@link ROUNDING}, and its check says
 * `exact: false`). Right with the report (its
 * `divergence` says the first step and leaf where the replay differs, or is null); Left when the recording
 * cannot be read or the optimizer cannot be rebuilt or fails. When the recording was read with allowTruncated and
 * ends in a cut-short frame, `unread` says how much of it (bytes and steps) could not be verified.
 * @example
 * const report = E.flatMap(readRecording("out/run.larch"), (rec) => verify(rec)); // divergence: null when bit for bit
 */
export const verify = (
  rec: Recording,
  optimizers?: { readonly [branch: number]: GradientTransformation<any> },
): E.Either<OptimizerError, VerifyReport> => {
  try {
    return verifyChecked(rec, optimizers);
  } catch (e) {
    return threw("verify", e); // optimizers or a recording a program forged: a getter or a Proxy trap that throws
  }
};

const verifyChecked = (
  rec: Recording,
  optimizers?: { readonly [branch: number]: GradientTransformation<any> },
): E.Either<OptimizerError, VerifyReport> => {
  const checked = recordingArg(rec, "verify");
  if (E.isLeft(checked)) return checked;
  const report = (branches: readonly BranchCheck[], divergence: Divergence | null): E.Either<OptimizerError, VerifyReport> =>
    E.right({ branches, divergence, unread: rec.unread ?? null });
  const given = optimizers ?? {};
  if (typeof given !== "object" || given === null)
    return E.left(optimizerError("InvalidOption", `verify: the optimizers must be an object of optimizers by branch id, got ${given === null ? "null" : typeof given}`));
  for (const [id, opt] of Object.entries(given)) {
    const ok = transformationArg(opt, "verify", `optimizer of branch ${id}`);
    if (E.isLeft(ok)) return ok;
  }
  const paths = rec.header.leaves.map((l) => l.path);
  const checks: BranchCheck[] = [];
  for (const b of rec.branches.values()) {
    const first = b.keyframeSteps[0];
    if (first === undefined) {
      checks.push({ branch: b.branch, stepsReplayed: 0, keyframesCompared: 0, exact: true, note: "no keyframe: nothing to replay" });
      continue;
    }
    const start = rec.keyframe(b.branch, first);
    if (E.isLeft(start)) return start;
    const steps = rec.steps(b.branch);
    if (E.isLeft(steps)) return steps;
    const recorded = new Map(steps.right.map((s) => [s.step, s]));
    const opt = optimizerFor(b, start.right.state, (given as Record<number, GradientTransformation<any>>)[b.branch]);
    if (E.isLeft(opt)) return opt;
    const exact = b.arithmetic === ARITHMETIC || !rec.header.leaves.some((l) => l.dtype === "float32");
    let point: RunPoint = start.right;
    let replayed = 0;
    let compared = 1;
    let note: string | null = exact
      ? null
      : `recorded by an earlier larch, which computed float32 leaves in float64 between roundings: compared within float32 rounding (${ROUNDING} relative), not bit for bit`;
    for (let t = first; t < b.endStep; t++) {
      if (!b.gradSteps.has(t)) {
        const why = b.recordGrads ? `no gradient for step ${t}: replay stopped there` : "recorded without gradients: keyframes were read, steps not replayed";
        note = note === null ? why : `${why}; ${note}`;
        break;
      }
      const g = rec.grads(b.branch, t);
      if (E.isLeft(g)) return g;
      const step = replayStep(opt.right, point, g.right);
      if (E.isLeft(step)) return report(checks, { branch: b.branch, step: t, path: step.left.path ?? "", message: `the replay fails: ${step.left.message}` });
      const differs = statsDifference(paths, recorded.get(t)!, stepStats(point.params, g.right, step.right.updates, step.right.next.state), exact);
      if (differs) return report(checks, { branch: b.branch, step: t, path: differs[0], message: differs[1] });
      point = step.right.next;
      replayed++;
      if (b.keyframeSteps.includes(t + 1)) {
        const kf = rec.keyframe(b.branch, t + 1);
        if (E.isLeft(kf)) return kf;
        const diff = diffStates(kf.right, point);
        if (E.isLeft(diff))
          return report(checks, { branch: b.branch, step: t + 1, path: diff.left.path ?? "", message: `the keyframe differs in form: ${diff.left.message}` });
        const within = (l: LeafDiff) => l.differing === 0 || (!exact && (l.maxAbsDiff <= ROUNDING || l.maxRelDiff <= ROUNDING));
        const near = (x: ScalarDiff) => !exact && typeof x.a === "number" && typeof x.b === "number" && close(x.a, x.b);
        if (!diff.right.identical && !(diff.right.scalars.every(near) && diff.right.leaves.every(within))) {
          const leaf = diff.right.leaves.find((l) => !within(l));
          const scalar = diff.right.scalars.find((x) => !near(x));
          return report(
            checks,
            leaf
              ? { branch: b.branch, step: t + 1, path: leaf.path, message: `keyframe leaf ${leaf.path} differs at ${leaf.differing} indices, first ${leaf.firstDifferingIndex} (max abs diff ${leaf.maxAbsDiff})` }
              : { branch: b.branch, step: t + 1, path: scalar!.path, message: `keyframe value ${scalar!.path} recorded ${String(scalar!.a)}, replayed ${String(scalar!.b)}` },
          );
        }
        compared++;
      }
    }
    // keyframes past the point where the replay stopped are still read (decoded and CRC-checked)
    for (const k of b.keyframeSteps.slice(compared)) {
      const kf = rec.keyframe(b.branch, k);
      if (E.isLeft(kf)) return kf;
    }
    checks.push({ branch: b.branch, stepsReplayed: replayed, keyframesCompared: compared, exact, note });
  }
  return report(checks, null);
};
