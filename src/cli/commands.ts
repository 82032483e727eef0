/**
 * The subcommands of `larch`. Each reads its files, returns what to print (and the exit code) or a Left with a
 * message a user can act on; only main.ts prints and exits.
 * @module
 */
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { decodeState } from "../timetravel/decodeState.js";
import { diffStates, type StateDiff } from "../timetravel/diffStates.js";
import { diffSteps } from "../timetravel/diffSteps.js";
import { readRecording, type Recording } from "../timetravel/recordingReader.js";
import { seek } from "../timetravel/seek.js";
import { verify } from "../timetravel/verify.js";
import { parseArgs, wholeNumber, type Args } from "./args.js";
import { showNumber, table } from "./format.js";
import { optimizerName, writeReport } from "./reportFromRecording.js";

/** What a command prints on stdout, and its exit code (0 success, 1 "differs"/"diverges"). */
export interface Outcome {
  readonly stdout: string;
  readonly code: 0 | 1;
}

type Result = E.Either<string, Outcome>;

const ok = (stdout: string, code: 0 | 1 = 0): Result => E.right({ stdout, code });

/**
 * Opens a recording, checking every frame; with `--quick` (for commands that read only the stats) the keyframe and
 * gradient frames are not read, so a long recording of a large model opens fast.
 */
const open = (path: string, args: Args): E.Either<string, Recording> =>
  E.mapLeft((e: { message: string }) => e.message)(
    readRecording(path, { allowTruncated: args.options.has("allow-truncated"), deferTensorChecks: args.options.has("quick") }),
  );

const one = (args: Args, what: string): E.Either<string, string> =>
  args.positional.length === 1 ? E.right(args.positional[0]!) : E.left(`expected one ${what}, got ${args.positional.length}`);

/** `larch inspect FILE [--step t] [--leaf path] [--branch b]`: the run's settings and a table of leaves at a step. */
export const inspect = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, ["step", "leaf", "branch"], ["allow-truncated", "quick"]);
  if (E.isLeft(args)) return args;
  const file = one(args.right, "recording FILE");
  if (E.isLeft(file)) return file;
  const rec = open(file.right, args.right);
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

/** A diff operand: `FILE@t` or `FILE@t:branch` (a step of a recording) or a checkpoint file. */
const operand = (spec: string, args: Args): E.Either<string, { readonly label: string; readonly value: unknown; readonly rec?: Recording; readonly step?: number; readonly branch?: number }> => {
  const m = /^(.*)@(\d+)(?::(\d+))?$/.exec(spec);
  if (m) {
    const rec = open(m[1]!, args);
    if (E.isLeft(rec)) return rec;
    const step = Number(m[2]);
    const branch = m[3] === undefined ? 0 : Number(m[3]);
    const point = seek(rec.right, step, { branch });
    if (E.isLeft(point)) return E.left(point.left.message);
    return E.right({ label: spec, value: point.right, rec: rec.right, step, branch });
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(spec);
  } catch (e) {
    return E.left(`cannot read ${spec}: ${e instanceof Error ? e.message : String(e)} (give a checkpoint file, or FILE@step for a step of a recording)`);
  }
  const decoded = decodeState(bytes);
  return E.isLeft(decoded) ? E.left(`${spec}: ${decoded.left.message}`) : E.right({ label: spec, value: decoded.right.state });
};

/** The table of a diff: differing leaves with their numbers, then the differing scalars. */
const showDiff = (a: string, b: string, d: StateDiff): string => {
  if (d.identical) return `${a} and ${b} are identical (${d.leaves.length} leaves, bit for bit)`;
  const differing = d.leaves.filter((l) => l.differing > 0);
  const rows = [["leaf", "shape", "differing", "first at", "max |a−b|", "max rel", "‖a‖", "‖b‖", "‖b‖−‖a‖"]];
  for (const l of differing)
    rows.push([l.path, `[${l.shape.join(", ")}]`, String(l.differing), String(l.firstDifferingIndex), ...[l.maxAbsDiff, l.maxRelDiff, l.normA, l.normB, l.normChange].map(showNumber)]);
  const scalars = d.scalars.map((s) => `  ${s.path}: ${String(s.a)} → ${String(s.b)}`);
  return [
    `${a} → ${b}: ${differing.length} of ${d.leaves.length} leaves differ${scalars.length > 0 ? `, and ${scalars.length} values` : ""}`,
    ...(differing.length > 0 ? [table(rows)] : []),
    ...(scalars.length > 0 ? ["values:", ...scalars] : []),
  ].join("\n");
};

/** `larch diff A B [--leaf path]`: A and B are checkpoints or `FILE@t[:branch]`. Exit code 1 when they differ. */
export const diff = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, ["leaf"], ["allow-truncated"]);
  if (E.isLeft(args)) return args;
  if (args.right.positional.length !== 2) return E.left(`expected two operands A B (checkpoint files or FILE@step), got ${args.right.positional.length}`);
  const [a, b] = args.right.positional as [string, string];
  const x = operand(a, args.right);
  if (E.isLeft(x)) return x;
  const y = operand(b, args.right);
  if (E.isLeft(y)) return y;
  const leaf = args.right.options.get("leaf");
  const d =
    leaf !== undefined && x.right.rec !== undefined && x.right.step !== undefined && y.right.step !== undefined
      ? diffSteps(x.right.rec, { step: x.right.step, branch: x.right.branch ?? 0 }, { step: y.right.step, branch: y.right.branch ?? 0 }, leaf)
      : leaf !== undefined
        ? E.left({ message: "--leaf needs recording operands (FILE@step)" })
        : diffStates(x.right.value, y.right.value);
  if (E.isLeft(d)) return E.left(`cannot compare ${a} and ${b}: ${d.left.message}`);
  return ok(showDiff(a, b, d.right), d.right.identical ? 0 : 1);
};

/** `larch verify FILE`: replays the recording; exit code 1 (with the step and leaf) when it diverges. */
export const verifyCommand = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, [], ["allow-truncated"]);
  if (E.isLeft(args)) return args;
  const file = one(args.right, "recording FILE");
  if (E.isLeft(file)) return file;
  const rec = open(file.right, args.right);
  if (E.isLeft(rec)) return rec;
  const report = verify(rec.right);
  if (E.isLeft(report)) return E.left(`cannot verify ${file.right}: ${report.left.message}`);
  const lines = report.right.branches.map(
    (b) => `branch ${b.branch}: ${b.stepsReplayed} steps replayed, ${b.keyframesCompared} keyframes identical${b.note ? ` (${b.note})` : ""}`,
  );
  const d = report.right.divergence;
  if (d !== null)
    return ok([...lines, `DIVERGES at step ${d.step} of branch ${d.branch}, leaf ${d.path === "" ? "<none>" : d.path}: ${d.message}`].join("\n"), 1);
  return ok([...lines, `${file.right}: OK, the replay reproduces the recording bit for bit`].join("\n"));
};

/** `larch report FILE -o report.html [--branch b]`: the HTML report of a recording. */
export const report = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, ["out", "branch"], ["allow-truncated", "quick"]);
  if (E.isLeft(args)) return args;
  const file = one(args.right, "recording FILE");
  if (E.isLeft(file)) return file;
  const out = args.right.options.get("out");
  if (out === undefined) return E.left("give the output file with -o report.html");
  const branch = wholeNumber("branch", args.right.options.get("branch"));
  if (E.isLeft(branch)) return branch;
  const rec = open(file.right, args.right);
  if (E.isLeft(rec)) return rec;
  const written = writeReport(rec.right, out, branch.right ?? 0);
  if (E.isLeft(written)) return E.left(written.left.message);
  return ok(`wrote ${out} (${written.right.bytes} bytes)`);
};
