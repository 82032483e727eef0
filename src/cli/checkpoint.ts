/**
 * `larch checkpoint`: the `{ params, state }` at a step of a recording, written as a checkpoint (safetensors) to
 * resume from or to open in NumPy or PyTorch.
 * @module
 */
import { writeFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { encodeState } from "../timetravel/encodeState.js";
import { seek } from "../timetravel/seek.js";
import { parseArgs } from "./args.js";
import { branchOptimizers } from "./optimizerModule.js";
import { withOptimizerHint } from "./optimizerHint.js";
import { notTheInput, ok, one, openRecordingFile, stepOperand, type Result } from "./command.js";

/**
 * `larch checkpoint FILE@t[:branch] -o state.safetensors [--optimizer MODULE.js]`: seeks step t and writes its
 * checkpoint, with meta { step, branch, optimizer }.
 */
export const checkpoint = async (argv: readonly string[]): Promise<Result> => {
  const args = parseArgs(argv, ["out", "optimizer"], ["allow-truncated"]);
  if (E.isLeft(args)) return args;
  const spec = one(args.right, "FILE@step");
  if (E.isLeft(spec)) return spec;
  const at = stepOperand(spec.right);
  if (at === undefined) return E.left(`expected FILE@step or FILE@step:branch, got "${spec.right}"`);
  const out = args.right.options.get("out");
  if (out === undefined) return E.left("give the output file with -o state.safetensors");
  const same = notTheInput(out, at.file);
  if (E.isLeft(same)) return same;
  const { step, branch } = at;
  const rec = openRecordingFile(at.file, args.right);
  if (E.isLeft(rec)) return rec;
  const optimizers = await branchOptimizers(args.right, rec.right);
  if (E.isLeft(optimizers)) return optimizers;
  const optimizer = optimizers.right[branch];
  const point = seek(rec.right, step, { branch, ...(optimizer ? { optimizer } : {}) });
  if (E.isLeft(point)) return E.left(withOptimizerHint(point.left.message));
  const recordedSpec = JSON.parse(JSON.stringify(rec.right.branches.get(branch)!.optimizer)) as unknown;
  const bytes = encodeState(point.right, { step, branch, optimizer: recordedSpec });
  if (E.isLeft(bytes)) return E.left(bytes.left.message);
  try {
    writeFileSync(out, bytes.right);
  } catch (e) {
    return E.left(`cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return ok(`wrote ${out} (${bytes.right.length} bytes): { params, state } before step ${step} of branch ${branch}`);
};
