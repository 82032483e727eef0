/**
 * The neutral transformation.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "./defineElementwise.js";
import type { GradientTransformation } from "./transform.js";

/** State of {@link identity}: nothing but its tag. */
export interface IdentityState {
  readonly kind: "identity";
}

/**
 * u ← u. The unit of {@link chain}: `chain(identity(), t)` and `chain(t, identity())` behave as `t`.
 * @example
 * const noop = identity();
 */
export const identity = (): GradientTransformation<IdentityState> =>
  defineElementwise<IdentityState>({
    name: "identity",
    hyperparams: {},
    state: { kind: "identity" },
    bodies: {},
    step: () => E.right({ body: null }),
  });
