/**
 * The `larch` command as a function: argv in, what to print and the exit code out (main.ts prints and exits).
 * Tests call it in-process; every command's usage is here, for `larch help COMMAND` and `larch COMMAND --help`.
 * @module
 */
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { checkpoint } from "./checkpoint.js";
import type { Outcome } from "./command.js";
import { diff } from "./diff.js";
import { inspect } from "./inspect.js";
import { report } from "./report.js";
import { verifyCommand } from "./verify.js";

/** What a run of `larch` prints on stdout and stderr, and its exit code (0 success, 1 differs/diverges, 2 error). */
export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: 0 | 1 | 2;
}

interface Command {
  readonly run: (argv: readonly string[]) => E.Either<string, Outcome> | Promise<E.Either<string, Outcome>>;
  /** one line for the general usage */
  readonly summary: string;
  /** the command's own usage: its operands and every option */
  readonly usage: string;
}

const TRUNCATED = "  --allow-truncated     read the intact part of a recording whose run stopped while writing";
const QUICK = "  --quick               skip reading the keyframes and gradients: fast on long runs of large models";
const OPTIMIZER =
  "  --optimizer MODULE.js a module exporting the optimizer (default export, or a named export of the same name\n" +
  "                        as the recording's optimizer): needed when the run used a transformation larch cannot rebuild";

const commands: Readonly<Record<string, Command>> = {
  inspect: {
    run: inspect,
    summary: "larch inspect FILE [--step t] [--leaf path] [--branch b]   settings, branches, and a table of leaves at a step",
    usage: [
      "usage: larch inspect FILE [--step t] [--leaf path] [--branch b]",
      "The run's settings and branches, and a table of its leaves (norms, trust ratio) at a step (the last by default).",
      "  --step t              the step to show",
      "  --leaf path           only this leaf; without --step, the leaf over every step",
      "  --branch b            the branch (0, the main run, by default)",
      TRUNCATED,
      QUICK,
    ].join("\n"),
  },
  diff: {
    run: diff,
    summary: "larch diff A B [--leaf path]        A, B: checkpoint files or FILE@step[:branch]; exit 1 when they differ",
    usage: [
      "usage: larch diff A B [--leaf path]",
      "How two states differ. A and B are checkpoint files (.safetensors) or steps of recordings, FILE@step or",
      "FILE@step:branch (for example run.larch@40). Exit 1 when they differ, 0 when identical.",
      "  --leaf path           the per-step numbers of one leaf between two steps of one recording",
      TRUNCATED,
    ].join("\n"),
  },
  verify: {
    run: verifyCommand,
    summary: "larch verify FILE                   replay the recording; exit 1 with the first diverging step and leaf",
    usage: [
      "usage: larch verify FILE [--optimizer MODULE.js]",
      "Replays the recording from its keyframes; exit 1 with the first step and leaf where the replay diverges.",
      OPTIMIZER,
      TRUNCATED,
    ].join("\n"),
  },
  report: {
    run: report,
    summary: "larch report FILE -o report.html [--branch b]   the HTML report of a recording",
    usage: [
      "usage: larch report FILE -o report.html [--branch b]",
      "Writes the HTML report of a recording (one self-contained file).",
      "  -o, --out FILE        the report to write (not the recording itself)",
      "  --branch b            the branch (0, the main run, by default)",
      TRUNCATED,
      QUICK,
    ].join("\n"),
  },
  checkpoint: {
    run: checkpoint,
    summary: "larch checkpoint FILE@step[:branch] -o state.safetensors   the { params, state } at a step, to resume from",
    usage: [
      "usage: larch checkpoint FILE@step[:branch] -o state.safetensors [--optimizer MODULE.js]",
      "Writes the { params, state } before a step of a recording as a checkpoint, to resume from.",
      "  -o, --out FILE        the checkpoint to write (not the recording itself)",
      OPTIMIZER,
      TRUNCATED,
    ].join("\n"),
  },
};

const USAGE = [
  "usage:",
  ...Object.values(commands).map((c) => `  ${c.summary}`),
  "  larch help COMMAND                  a command's options (also: larch COMMAND --help)",
  "  larch --version                     the version of larch",
  "exit codes: 0 success, 1 the operands differ or the run diverges, 2 an error (message on stderr)",
].join("\n");

/** The version in larch's package.json (two levels up from both src/cli and dist/cli). */
const version = (): string => {
  try {
    return String((JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown }).version);
  } catch {
    return "unknown";
  }
};

const printed = (stdout: string, code: 0 | 1 | 2 = 0): CliResult => ({ stdout, stderr: "", code });
const failed = (stderr: string): CliResult => ({ stdout: "", stderr, code: 2 });

/**
 * Runs `larch` with these arguments (without the program name).
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["help", "verify"]); // 0, verify's usage
 * ```
 */
export const runCli = async (argv: readonly string[]): Promise<CliResult> => {
  const [name, ...rest] = argv;
  if (name === undefined) return { stdout: "", stderr: USAGE, code: 2 };
  if (name === "--version" || name === "-v" || name === "version") return printed(version());
  if (name === "help" || name === "--help" || name === "-h") {
    const topic = rest[0];
    if (topic === undefined || topic === "help") return printed(USAGE);
    const command = Object.hasOwn(commands, topic) ? commands[topic] : undefined;
    return command === undefined ? failed(`larch help: unknown command "${topic}"\n${USAGE}`) : printed(command.usage);
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) return failed(`larch: unknown command "${name}"\n${USAGE}`);
  if (rest.includes("--help") || rest.includes("-h")) return printed(command.usage);
  let result: E.Either<string, Outcome>;
  try {
    result = await command.run(rest);
  } catch (e) {
    // a command reports its failures as Lefts; anything thrown is a bug, still reported as an error, not a stack
    return failed(`larch ${name}: internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (E.isLeft(result)) return failed(`larch ${name}: ${result.left}\n(larch help ${name} shows its usage)`);
  return printed(result.right.stdout, result.right.code);
};
