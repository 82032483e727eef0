#!/usr/bin/env node
/**
 * `larch`: inspect, diff, verify and report recordings of optimizer runs (`*.larch`) and checkpoints.
 * Exit codes: 0 success, 1 the operands differ or the run diverges, 2 an error (message on stderr).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkpoint } from "./checkpoint.js";
import type { Outcome } from "./command.js";
import { diff } from "./diff.js";
import { inspect } from "./inspect.js";
import { report } from "./report.js";
import { verifyCommand } from "./verify.js";

const USAGE = `usage:
  larch inspect FILE [--step t] [--leaf path] [--branch b]   settings, branches, and a table of leaves at a step
  larch diff A B [--leaf path]        A, B: checkpoint files or FILE@step[:branch]; exit 1 when they differ
  larch verify FILE                   replay the recording; exit 1 with the first diverging step and leaf
  larch report FILE -o report.html [--branch b]   the HTML report of a recording
  larch checkpoint FILE@step[:branch] -o state.safetensors   the { params, state } at a step, to resume from
options: --allow-truncated reads the intact part of a recording whose run stopped while writing;
         --quick (inspect, report) skips reading the keyframes and gradients: fast on long runs of large models`;

const commands: Readonly<Record<string, (argv: readonly string[]) => E.Either<string, Outcome>>> = {
  inspect,
  diff,
  verify: verifyCommand,
  report,
  checkpoint,
};

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "help" || name === "--help" || name === "-h") {
  console.log(USAGE);
  process.exit(name === undefined ? 2 : 0);
}
const command = commands[name];
if (command === undefined) {
  console.error(`larch: unknown command "${name}"\n${USAGE}`);
  process.exit(2);
}
const result = command(rest);
if (E.isLeft(result)) {
  console.error(`larch ${name}: ${result.left}`);
  process.exit(2);
}
if (result.right.stdout !== "") console.log(result.right.stdout);
process.exitCode = result.right.code;
