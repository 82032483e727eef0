/**
 * Reading a factory's options as a plain-JavaScript caller may pass them: a missing record, a missing option, a
 * value of the wrong type (`nesterov: "no"`, `b1: "0.5"`, a Symbol) or a getter that throws is an InvalidOption
 * Left naming the option, never a coercion and never a throw. Each factory declares its options in one record and
 * reads them in one call, before it checks their ranges.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import { failing } from "./elementwise.js";
import type { GradientTransformation } from "./transform.js";

/** A type an option's value must have: its name for messages, and the test. */
export interface OptionType<A> {
  /** What the value must be, for messages ("a number"). */
  readonly is: string;
  readonly accepts: (value: unknown) => value is A;
}

/** One declared option: its type, and its default (absent for a required option). */
export interface OptionField<A> {
  readonly type: OptionType<A>;
  readonly required: boolean;
  readonly fallback?: A;
}

const refused = (owner: string, message: string): E.Either<OptimizerError, never> =>
  E.left(optimizerError("InvalidOption", `${typeof owner === "string" ? owner : showValue(owner)}: ${message}`));

/** A number (NaN and ±Inf included: the factory's range check refuses those with its own message). */
export const aNumber: OptionType<number> = { is: "a number", accepts: (x): x is number => typeof x === "number" };

/** true or false. */
export const aBoolean: OptionType<boolean> = { is: "a boolean", accepts: (x): x is boolean => typeof x === "boolean" };

/** A function (a schedule, a label function, a builder). */
export const aFunction: OptionType<(...args: never[]) => unknown> = {
  is: "a function",
  accepts: (x): x is (...args: never[]) => unknown => typeof x === "function",
};

/** A number or a function of the step (a learning rate or a schedule). */
export const aNumberOrSchedule: OptionType<number | ((step: number) => number)> = {
  is: "a number or a schedule",
  accepts: (x): x is number | ((step: number) => number) => typeof x === "number" || typeof x === "function",
};

/** An array of numbers. */
export const numbers: OptionType<readonly number[]> = {
  is: "an array of numbers",
  accepts: (x): x is readonly number[] => Array.isArray(x) && x.every((v) => typeof v === "number"),
};

/** A record (any object but an array or null). */
export const aRecord: OptionType<{ readonly [key: string]: unknown }> = {
  is: "a record",
  accepts: (x): x is { readonly [key: string]: unknown } => typeof x === "object" && x !== null && !Array.isArray(x),
};

/**
 * One of a few strings (an enumerated option such as `anneal: "cosine" | "linear"`).
 * @example
 * readOptions("oneCycle", o, { anneal: optional(oneOf(["cosine", "linear"] as const), "cosine") })
 */
export const oneOf = <A extends string>(values: readonly A[]): OptionType<A> => ({
  is: `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`,
  accepts: (x): x is A => typeof x === "string" && (values as readonly string[]).includes(x),
});

/**
 * An array whose every element has a type (read once, so a Proxy's traps or getters run once per element).
 * @example
 * readOptions("joinSchedules", o, { boundaries: required(arrayOf(aNumber)) })
 */
export const arrayOf = <A>(item: OptionType<A>): OptionType<readonly A[]> => ({
  is: `an array, each element ${item.is}`,
  accepts: (x): x is readonly A[] => {
    if (!Array.isArray(x)) return false;
    for (let i = 0; i < x.length; i++) if (!item.accepts(x[i])) return false; // a hole is undefined, refused
    return true;
  },
});

/** `[lo, hi]`, two numbers. */
export const aPair: OptionType<readonly [number, number]> = {
  is: "a pair [lo, hi] of numbers",
  accepts: (x): x is readonly [number, number] => Array.isArray(x) && x.length === 2 && typeof x[0] === "number" && typeof x[1] === "number",
};

/**
 * Whether a value can serve as a transformation: an object with `init` and `update` functions (reading it may
 * run a Proxy's traps, which may throw: then it cannot).
 * @example
 * isTransformation(lars({ lr: 0.1 })) === true; isTransformation({ init: 1 }) === false
 */
export const isTransformation = (value: unknown): value is GradientTransformation<unknown> => {
  try {
    if (typeof value !== "object" || value === null) return false;
    const t = value as { init?: unknown; update?: unknown };
    return typeof t.init === "function" && typeof t.update === "function";
  } catch {
    return false;
  }
};

/** Any object with `init` and `update` functions. */
export const aTransformation: OptionType<GradientTransformation<any>> = {
  is: "a transformation (an object with init and update functions)",
  accepts: isTransformation,
};

/**
 * Right when every member is a transformation ({@link isTransformation}); else an InvalidOption Left naming the
 * first that is not (`what(i)` names member i: "member 2", "label decay").
 * @example
 * const members = transformations("chain", [traceMomentum({ momentum: 0.9 }), 0.1], (i) => `member ${i}`); // Left: member 1 is 0.1
 */
export const transformations = (
  owner: string,
  members: readonly unknown[],
  what: (i: number) => string,
): E.Either<OptimizerError, readonly GradientTransformation<any>[]> => {
  const bad = members.findIndex((m) => !isTransformation(m));
  return bad < 0
    ? E.right(members as readonly GradientTransformation<any>[])
    : refused(owner, `${what(bad)} is ${showValue(members[bad])}, not ${aTransformation.is}`);
};

/**
 * A required option of a type.
 * @example
 * readOptions("scaleByLr", { lr }, { lr: required(aNumberOrSchedule) })
 */
export const required = <A>(type: OptionType<A>): OptionField<A> => ({ type, required: true });

/**
 * An option of a type that defaults to `fallback` when it is absent (undefined).
 * @example
 * readOptions("traceMomentum", o, { momentum: required(aNumber), nesterov: optional(aBoolean, false) })
 */
export const optional = <A, D extends A | undefined>(type: OptionType<A>, fallback: D): OptionField<A | D> => ({
  type: type as OptionType<A | D>,
  required: false,
  fallback,
});

/** The values a declaration of options reads to. */
export type OptionValues<F> = { readonly [K in keyof F]: F[K] extends OptionField<infer A> ? A : never };

/**
 * Reads the declared options from `options` (a record; absent options take their defaults): Right(values), or an
 * InvalidOption Left naming the first option that is missing, of the wrong type, or whose getter throws, or a key
 * that names no declared option (a typo: `momentun`); a missing record (undefined, null) or one that is not an
 * object is a Left too. Nothing is coerced.
 * @example
 * readOptions("lars", { momentum: 0.9 }, { lr: required(aNumberOrSchedule) }) // Left("lars: missing option lr (a number or a schedule)")
 * readOptions("sgd", { lr: 0.1, nesterov: "no" }, { lr: required(aNumberOrSchedule), nesterov: optional(aBoolean, false) }) // Left: nesterov is "no", not a boolean
 */
export const readOptions = <F extends { readonly [key: string]: OptionField<any> }>(
  owner: string,
  options: unknown,
  fields: F,
): E.Either<OptimizerError, OptionValues<F>> => {
  const out: Record<string, unknown> = {};
  let name: string | undefined;
  let names: string[] = [];
  try {
    names = Object.keys(fields);
  } catch {
    return refused(owner, "its declaration of options cannot be read");
  }
  try {
    if (typeof options !== "object" || options === null || Array.isArray(options))
      return refused(owner, `needs a record of options { ${names.join(", ")} }, not ${showValue(options)}`);
    for (name of names) {
      const field = fields[name]!;
      let value = (options as Record<string, unknown>)[name];
      if (value === undefined) {
        if (field.required) return refused(owner, `missing option ${name} (${field.type.is})`);
        value = field.fallback;
      } else if (!field.type.accepts(value)) return refused(owner, `option ${name} must be ${field.type.is}, not ${showValue(value)}`);
      out[name] = value;
    }
    name = undefined;
    // a key no option is declared for is a typo (lars({ momentun: 0.9 })) or an option of another factory: refused
    for (const key of Object.keys(options))
      if (!Object.prototype.hasOwnProperty.call(fields, key))
        return refused(owner, `unknown option ${JSON.stringify(key)} (it accepts ${names.join(", ")})`);
  } catch (e) {
    // a getter or a Proxy trap of the record (or of an option's value) threw
    return refused(owner, `reading ${name === undefined ? "the options" : `option ${name}`} threw ${showValue(e)}`);
  }
  return E.right(out as OptionValues<F>);
};

/**
 * `build()`, or, if reading its arguments throws (a Proxy's trap, a getter, a structure nested past the stack), a
 * transformation whose init and update return that as an InvalidOption Left: for factories that walk what they
 * are given (a mask tree, a record of transformations) beyond what {@link readOptions} reads.
 * @example
 * export const masked = (inner, mask) => refusingThrows("masked", () => partition({ masked: inner, unmasked: identity() }, labelsOf(mask)));
 */
export const refusingThrows = <S>(owner: string, build: () => GradientTransformation<S>): GradientTransformation<S> => {
  try {
    return build();
  } catch (e) {
    return failing(owner, {}, optimizerError("InvalidOption", `${owner}: reading its arguments threw ${showValue(e)}`));
  }
};
