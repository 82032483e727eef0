/**
 * An optimizer made of a chain, under its own name.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { chain, type ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import type { GradientTransformation, HyperRecord } from "../core/transform.js";

/**
 * `chain(...members)` named `name`, with the members' specs as its hyper-parameters. When a member refuses its
 * options (its `init` is an InvalidOption Left even on the empty tree, as a {@link failing} member's is), the
 * optimizer is `failing` with that member's error: init and update both return it, whatever state is handed in.
 * @example
 * const momentumSgd = namedChain("momentumSgd", traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
 */
export const namedChain = (name: string, ...members: readonly GradientTransformation<any>[]): GradientTransformation<ChainState> => {
  const whole = chain(...members);
  for (const member of members) {
    const probe = member.init({});
    if (E.isLeft(probe) && probe.left.kind === "InvalidOption") return failing(name, whole.hyperparams as HyperRecord, probe.left);
  }
  return Object.freeze({ ...whole, name });
};
