/**
 * An optimizer made of a chain, under its own name.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { chain, type ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { transformations } from "../core/options.js";
import type { GradientTransformation, HyperRecord } from "../core/transform.js";

/**
 * `chain(...members)` named `name`, with the members' specs as its hyper-parameters. When a member refuses its
 * options (it is {@link failing}: init and update return the same InvalidOption error whatever they are given),
 * the optimizer is `failing` with that member's error: init and update both return it, whatever state is handed in.
 * @example
 * const momentumSgd = namedChain("momentumSgd", traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
 */
export const namedChain = (name: string, ...members: readonly GradientTransformation<any>[]): GradientTransformation<ChainState> => {
  if (typeof name !== "string") return failing("namedChain", {}, optimizerError("InvalidOption", `namedChain: the name is ${showValue(name)}, not a string`));
  const checked = transformations(name, members, (i) => `member ${i}`);
  if (E.isLeft(checked)) return failing(name, {}, checked.left);
  const whole = chain(...members);
  for (const member of members) {
    // a `failing` member returns one and the same InvalidOption error from init and update, whatever it is given
    const init = member.init({});
    if (E.isLeft(init) && init.left.kind === "InvalidOption") {
      const update = member.update({}, undefined);
      if (E.isLeft(update) && update.left === init.left) return failing(name, whole.hyperparams as HyperRecord, init.left);
    }
  }
  return Object.freeze({ ...whole, name });
};
