/**
 * `larch verify`: replay a recording and report where it diverges.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { verify } from "../timetravel/verify.js";
import { parseArgs } from "./args.js";
import { withOptimizerHint } from "./optimizerHint.js";
import { ok, one, openRecordingFile, plainFile, type Result } from "./command.js";
import { branchOptimizers } from "./optimizerModule.js";

/**
 * `larch verify FILE [--optimizer MODULE.js]`: replays the recording; exit code 1 (with the step and leaf) when it
 * diverges.
 */
export const verifyCommand = async (argv: readonly string[]): Promise<Result> => {
  const args = parseArgs(argv, ["optimizer"], ["allow-truncated"]);
  if (E.isLeft(args)) return args;
  const file = E.flatMap(one(args.right, "recording FILE"), (f) => plainFile(f, "verify"));
  if (E.isLeft(file)) return file;
  const rec = openRecordingFile(file.right, args.right);
  if (E.isLeft(rec)) return rec;
  const optimizers = await branchOptimizers(args.right, rec.right);
  if (E.isLeft(optimizers)) return optimizers;
  const report = verify(rec.right, optimizers.right);
  if (E.isLeft(report)) return E.left(`cannot verify ${file.right}: ${withOptimizerHint(report.left.message)}`);
  const lines = report.right.branches.map(
    (b) => `branch ${b.branch}: ${b.stepsReplayed} steps replayed, ${b.keyframesCompared} keyframes ${b.exact ? "identical" : "within rounding"}${b.note ? ` (${b.note})` : ""}`,
  );
  const how = report.right.branches.every((b) => b.exact) ? "bit for bit" : "within float32 rounding (an earlier larch's arithmetic)";
  const d = report.right.divergence;
  const u = report.right.unread;
  const unread =
    u === null
      ? []
      : [`NOT VERIFIED, could not be read: the file is cut short at byte ${u.at} (${u.bytes} bytes unread, holding ${u.steps} more step${u.steps === 1 ? "" : "s"})`];
  if (d !== null)
    return ok([...lines, `DIVERGES at step ${d.step} of branch ${d.branch}, leaf ${d.path === "" ? "<none>" : d.path}: ${d.message}`, ...unread].join("\n"), 1);
  return ok(
    [...lines, u === null ? `${file.right}: OK, the replay reproduces the recording ${how}` : `${file.right}: OK up to byte ${u.at}, the replay reproduces the steps read ${how}`, ...unread].join("\n"),
  );
};

