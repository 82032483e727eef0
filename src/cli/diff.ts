/**
 * `larch diff`: how two states differ — checkpoints, or steps of recordings.
 * @module
 */
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { decodeState } from "../timetravel/decodeState.js";
import { diffStates, type StateDiff } from "../timetravel/diffStates.js";
import { diffSteps } from "../timetravel/diffSteps.js";
import type { Recording } from "../timetravel/recordingReader.js";
import { layoutOfMagic } from "../timetravel/recordingLayout.js";
import { seek } from "../timetravel/seek.js";
import { parseArgs, type Args } from "./args.js";
import { ok, openRecordingFile, stepOperand, type Result } from "./command.js";
import { showNumber, table } from "./format.js";

/** A diff operand: `FILE@t` or `FILE@t:branch` (a step of a recording) or a checkpoint file. */
const operand = (spec: string, args: Args): E.Either<string, { readonly label: string; readonly value: unknown; readonly rec?: Recording; readonly step?: number; readonly branch?: number }> => {
  const at = stepOperand(spec);
  if (at) {
    const { step, branch } = at;
    const rec = openRecordingFile(at.file, args);
    if (E.isLeft(rec)) return rec;
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
  if (layoutOfMagic(new TextDecoder().decode(bytes.subarray(0, 8))) !== undefined)
    return E.left(`${spec} is a recording, not a checkpoint: name a step of it as ${spec}@step (for example ${spec}@0, or ${spec}@step:branch)`);
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

