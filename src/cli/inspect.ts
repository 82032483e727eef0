/**
 * `larch inspect`: a recording's settings and branches, and a table of its leaves at a step.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { parseArgs, wholeNumber } from "./args.js";
import { ok, one, openRecordingFile, plainFile, type Result } from "./command.js";
import { showNumber, table } from "./format.js";
import { optimizerName } from "./reportFromRecording.js";

/** `larch inspect FILE [--step t] [--leaf path] [--branch b]`: the run's settings and a table of leaves at a step. */
export const inspect = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, ["step", "leaf", "branch"], ["allow-truncated", "quick"]);
  if (E.isLeft(args)) return args;
  const file = E.flatMap(one(args.right, "recording FILE"), (f) => plainFile(f, "inspect"));
  if (E.isLeft(file)) return file;
  const rec = openRecordingFile(file.right, args.right);
  if (E.isLeft(rec)) return rec;
  const step = wholeNumber("step", args.right.options.get("step"));
  if (E.isLeft(step)) return step;
  const branchNo = wholeNumber("branch", args.right.options.get("branch"));
  if (E.isLeft(branchNo)) return branchNo;
  const r = rec.right;
  const branch = r.branches.get(branchNo.right ?? 0);
  if (branch === undefined) return E.left(`${file.right} has no branch ${branchNo.right}; it has ${[...r.branches.keys()].join(", ")}`);
  const leaf = args.right.options.get("leaf");
  const leafIndex = leaf === undefined ? -1 : r.header.leaves.findIndex((l) => l.path === leaf);
  if (leaf !== undefined && leafIndex < 0) return E.left(`${file.right} has no leaf "${leaf}"; its leaves are ${r.header.leaves.map((l) => l.path).join(", ")}`);
  const steps = r.steps(branch.branch);
  if (E.isLeft(steps)) return E.left(steps.left.message);
  if (steps.right.length === 0) return E.left(`${file.right} has no recorded steps in branch ${branch.branch}`);

  const lines = [
    `${file.right}: ${r.header.format}, ${r.fileBytes} bytes${r.truncatedAt !== null ? `, cut short at byte ${r.truncatedAt}` : ""}`,
    `optimizer ${optimizerName(r.header.optimizer)}, keyframe every ${r.header.keyframeEvery} steps, gradients ${r.header.recordGrads ? "recorded" : "not recorded"}`,
    ...[...r.branches.values()].map(
      (b) =>
        `branch ${b.branch}${b.parent === null ? " (main)" : ` (from branch ${b.parent} at step ${b.forkStep}, ${optimizerName(b.optimizer)})`}: ` +
        `steps ${b.forkStep}..${b.endStep - 1}, keyframes at ${b.keyframeSteps.join(", ")}${b.complete ? "" : " — unfinished (not closed)"}`,
    ),
    "",
  ];
  const row = (values: (number | null)[]) => values.map(showNumber);
  if (leaf !== undefined && step.right === undefined) {
    lines.push(`leaf ${leaf} over the steps of branch ${branch.branch}:`);
    const rows = [["step", "lr", "‖p‖", "‖g‖", "γ", "‖u‖", "‖m‖"]];
    for (const s of steps.right) {
      const l = s.leaves[leafIndex]!;
      rows.push([String(s.step), ...row([s.lr, l.paramNorm, l.gradNorm, l.trustRatio, l.updateNorm, l.momentumNorm])]);
    }
    return ok([...lines, table(rows)].join("\n"));
  }
  const t = step.right ?? steps.right[steps.right.length - 1]!.step;
  const s = steps.right.find((x) => x.step === t);
  if (s === undefined) return E.left(`step ${t} is not recorded in branch ${branch.branch} (steps 0..${branch.endStep - 1})`);
  lines.push(`step ${t}: lr ${showNumber(s.lr)}, loss ${showNumber(s.loss)}, accuracy ${showNumber(s.accuracy)}  (‖p‖, ‖g‖ before the step; γ, ‖u‖, ‖m‖ of the step)`);
  const rows = [["leaf", "shape", "dtype", "‖p‖", "‖g‖", "γ", "‖u‖", "‖m‖"]];
  r.header.leaves.forEach((l, i) => {
    if (leafIndex >= 0 && i !== leafIndex) return;
    const x = s.leaves[i]!;
    rows.push([l.path === "" ? "<root>" : l.path, `[${l.shape.join(", ")}]`, l.dtype, ...row([x.paramNorm, x.gradNorm, x.trustRatio, x.updateNorm, x.momentumNorm])]);
  });
  return ok([...lines, table(rows)].join("\n"));
};

