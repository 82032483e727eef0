/**
 * The option checks the moment-based transformations of optax's family share (decays in [0, 1), epsilons ≥ 0).
 * @module
 */
import { showValue } from "../core/errors.js";

/**
 * The first problem with a transformation's decays (each must be a number in [0, 1)), epsilons (finite, ≥ 0) and
 * flags (booleans), as a message naming the option, or undefined when all are valid. Records that cannot be read (not
 * objects, or whose getters throw) are a problem too.
 * @example
 * momentOptionsProblem({ b1: 0.9, b2: 1 }, { eps: 1e-8 }) // "Invalid b2: 1 (must be in [0, 1))"
 */
export const momentOptionsProblem = (
  decays: { readonly [name: string]: unknown },
  epsilons: { readonly [name: string]: unknown } = {},
  flags: { readonly [name: string]: unknown } = {},
): string | undefined => {
  try {
    for (const [what, record] of [["decays", decays], ["epsilons", epsilons], ["flags", flags]] as const)
      if (typeof record !== "object" || record === null) return `Invalid ${what}: ${showValue(record)} (must be a record of options)`;
    for (const [name, b] of Object.entries(decays))
      if (!(typeof b === "number" && b >= 0 && b < 1)) return `Invalid ${name}: ${showValue(b)} (must be in [0, 1))`;
    for (const [name, e] of Object.entries(epsilons))
      if (!(typeof e === "number" && Number.isFinite(e) && e >= 0)) return `Invalid ${name}: ${showValue(e)} (must be finite and >= 0)`;
    for (const [name, f] of Object.entries(flags)) if (typeof f !== "boolean") return `Invalid ${name}: ${showValue(f)} (must be true or false)`;
    return undefined;
  } catch (e) {
    return `the options cannot be read: reading them threw ${showValue(e)}`; // a getter or a Proxy trap
  }
};
