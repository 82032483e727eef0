/**
 * `larch report`: the HTML report of a recording.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { parseArgs, wholeNumber } from "./args.js";
import { notTheInput, ok, one, openRecordingFile, plainFile, type Result } from "./command.js";
import { writeReport } from "./reportFromRecording.js";

/** `larch report FILE -o report.html [--branch b]`: the HTML report of a recording. */
export const report = (argv: readonly string[]): Result => {
  const args = parseArgs(argv, ["out", "branch"], ["allow-truncated", "quick"]);
  if (E.isLeft(args)) return args;
  const file = E.flatMap(one(args.right, "recording FILE"), (f) => plainFile(f, "report"));
  if (E.isLeft(file)) return file;
  const out = args.right.options.get("out");
  if (out === undefined) return E.left("give the output file with -o report.html");
  const same = notTheInput(out, file.right);
  if (E.isLeft(same)) return same;
  const branch = wholeNumber("branch", args.right.options.get("branch"));
  if (E.isLeft(branch)) return branch;
  const rec = openRecordingFile(file.right, args.right);
  if (E.isLeft(rec)) return rec;
  const written = writeReport(rec.right, out, branch.right ?? 0);
  if (E.isLeft(written)) return E.left(written.left.message);
  return ok(`wrote ${out} (${written.right.bytes} bytes)`);
};
