/**
 * The library's factories that build a transformation from one record of options (`lars`, `adam`,
 * `scaleByAdam`, ...), known by name, so that a wrapper handed one of them as its `build` function can record
 * which it was (as a schedule records its spec) and time travel can call it again. Any other function is "custom".
 * @module
 */
import type { GradientTransformation } from "./transform.js";

const names = new WeakMap<object, string>();

/** Records `f` as the library's factory `name` (each factory's module calls it once for itself). */
export const registerBuilder = (name: string, f: (options: never) => GradientTransformation<any>): void => {
  names.set(f, name);
};

/**
 * The name of a library factory, or "custom" for any other function.
 * @example
 * builderName(lars) === "lars"; builderName((h) => lars(h)) === "custom"
 */
export const builderName = (f: unknown): string => (typeof f === "function" ? names.get(f) : undefined) ?? "custom";
