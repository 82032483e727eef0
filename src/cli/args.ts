/**
 * Command-line arguments of `larch`: positional arguments and `--name value` options.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

/** Parsed arguments: the positional ones in order, and the options by name (flags have the value "true"). */
export interface Args {
  readonly positional: readonly string[];
  readonly options: ReadonlyMap<string, string>;
}

/**
 * Splits argv: `--name value`, `--name=value`, `-o value` (short for --out), and the flags in `flags` (no value).
 * An option this command does not know is a Left naming it and the ones it knows.
 */
export const parseArgs = (argv: readonly string[], known: readonly string[], flags: readonly string[] = []): E.Either<string, Args> => {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const name = rawName === "-o" ? "out" : rawName.replace(/^--/, "");
    if (flags.includes(name)) {
      options.set(name, "true");
      continue;
    }
    if (!known.includes(name))
      return E.left(`unknown option ${rawName}${known.length + flags.length > 0 ? ` (this command takes ${[...known, ...flags].map((k) => `--${k}`).join(", ")})` : ""}`);
    const value = inline ?? argv[++i];
    if (value === undefined) return E.left(`option ${rawName} needs a value`);
    options.set(name, value);
  }
  return E.right({ positional, options });
};

/** A whole number ≥ 0 from an option, or a Left saying which option is wrong. */
export const wholeNumber = (name: string, text: string | undefined): E.Either<string, number | undefined> => {
  if (text === undefined) return E.right(undefined);
  const n = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(n) ? E.right(n) : E.left(`--${name} needs a whole number >= 0, got "${text}"`);
};
