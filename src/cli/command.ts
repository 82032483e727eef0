/**
 * What every subcommand of `larch` shares: its outcome, and opening a recording as the options say. Each command
 * reads its files and returns what to print (and the exit code) or a Left with a message a user can act on;
 * only main.ts prints and exits.
 * @module
 */
import { existsSync, statSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { readRecording, type Recording } from "../timetravel/recordingReader.js";
import type { Args } from "./args.js";

/** What a command prints on stdout, and its exit code (0 success, 1 "differs"/"diverges"). */
export interface Outcome {
  readonly stdout: string;
  readonly code: 0 | 1;
}

export type Result = E.Either<string, Outcome>;

/** A successful outcome. */
export const ok = (stdout: string, code: 0 | 1 = 0): Result => E.right({ stdout, code });

/**
 * Opens a recording, checking every frame; with `--quick` (for commands that read only the stats) the keyframe and
 * gradient frames are not read, so a long recording of a large model opens fast.
 */
export const openRecordingFile = (path: string, args: Args): E.Either<string, Recording> =>
  E.mapLeft((e: { message: string }) => e.message)(
    readRecording(path, { allowTruncated: args.options.has("allow-truncated"), deferTensorChecks: args.options.has("quick") }),
  );

/** The one positional argument, or a Left saying what was expected. */
export const one = (args: Args, what: string): E.Either<string, string> =>
  args.positional.length === 1 ? E.right(args.positional[0]!) : E.left(`expected one ${what}, got ${args.positional.length}`);

/** A step of a recording written `FILE@step` or `FILE@step:branch`. */
export interface StepOperand {
  readonly file: string;
  readonly step: number;
  readonly branch: number;
}

/** The recording step an operand names, or undefined when it is not of the form `FILE@step[:branch]`. */
export const stepOperand = (spec: string): StepOperand | undefined => {
  const m = /^(.*)@(\d+)(?::(\d+))?$/.exec(spec);
  return m === null ? undefined : { file: m[1]!, step: Number(m[2]), branch: m[3] === undefined ? 0 : Number(m[3]) };
};

/**
 * A Left when the output file `out` is the input `input` — the same file after following symbolic links, or a
 * hard link to it (same device and inode) — which writing would destroy.
 */
export const notTheInput = (out: string, input: string): E.Either<string, void> => {
  let a: { dev: number; ino: number };
  let b: { dev: number; ino: number };
  try {
    a = statSync(out);
    b = statSync(input);
  } catch {
    return E.right(undefined); // the output does not exist yet (or the input cannot be read: said when it is opened)
  }
  return a.dev === b.dev && a.ino === b.ino
    ? E.left(`the output ${out} is the recording it reads (${input}); give another file with -o`)
    : E.right(undefined);
};

/**
 * A recording FILE operand of a command that takes no `@step`: when `FILE@t` is not a file but `FILE` is, a Left
 * saying how this command takes a step (inspect: `--step t`), instead of "no such file".
 */
export const plainFile = (spec: string, command: string): E.Either<string, string> => {
  const at = stepOperand(spec);
  if (at === undefined || existsSync(spec) || !existsSync(at.file)) return E.right(spec);
  const how =
    command === "inspect"
      ? `larch inspect ${at.file} --step ${at.step}${at.branch !== 0 ? ` --branch ${at.branch}` : ""}`
      : command === "report"
        ? `larch report ${at.file} -o report.html${at.branch !== 0 ? ` --branch ${at.branch}` : ""}`
        : `larch ${command} ${at.file}`;
  return E.left(`${command} takes a recording FILE, not FILE@step (there is no file "${spec}"); did you mean: ${how}`);
};
