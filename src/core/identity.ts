/**
 * The neutral transformation.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { elementwise, stateOfKind } from "./elementwise.js";
import type { GradientTransformation } from "./transform.js";

/** State of {@link identity}: nothing but its tag. */
export interface IdentityState {
  readonly kind: "identity";
}

const STATE: IdentityState = Object.freeze({ kind: "identity" });

/**
 * u ← u. The unit of {@link chain}: `chain(identity(), t)` and `chain(t, identity())` behave as `t`.
 * @example
 * const noop = identity();
 */
export const identity = (): GradientTransformation<IdentityState> =>
  elementwise({
    name: "identity",
    hyperparams: {},
    init: () => E.right(STATE),
    begin: (state) =>
      E.map((s: IdentityState) => ({ leaf: () => E.right(null), finish: () => s }))(stateOfKind<IdentityState>(state, "identity")),
  });
