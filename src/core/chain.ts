/**
 * Composition: `chain(t₁, …, tₙ)` applies its members in order, u ← tₙ(…t₁(u)), each with its own state;
 * the chain's state is the tuple of its members' states.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { isDonated, reusedError } from "./donation.js";
import { composeKernels, failing, runFused } from "./elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import type { BlockKernel, Fusable, GradientTransformation, Step, StepPlan, UpdateContext } from "./transform.js";
import { specOf } from "./transform.js";
import { transformations } from "./options.js";
import type { Tree } from "./tree.js";

/** The state of a chain: its members' states, in order. */
export type ChainState = readonly unknown[];

const initAll =
  (members: readonly GradientTransformation<any>[]) =>
  (params: Tree): E.Either<OptimizerError, ChainState> => {
    const states: unknown[] = [];
    for (const member of members) {
      const s = member.init(params);
      if (E.isLeft(s)) return s;
      states.push(s.right);
    }
    return E.right(Object.freeze(states));
  };

const checkChainState = (n: number, state: unknown): E.Either<OptimizerError, ChainState> => {
  try {
    return checkChainStateOrThrow(n, state);
  } catch (e) {
    return E.left(optimizerError("StateMismatch", `a chain was given a state that cannot be read: reading it threw ${showValue(e)}`));
  }
};

const checkChainStateOrThrow = (n: number, state: unknown): E.Either<OptimizerError, ChainState> =>
  isDonated(state)
    ? E.left(reusedError("chain state"))
    : Array.isArray(state) && state.length === n
    ? E.right(state)
    : E.left(
        optimizerError(
          "StateMismatch",
          `a chain of ${n} transformations was given ${Array.isArray(state) ? `a state of ${state.length}` : "a state that is not a chain's"}: a state of another optimizer?`,
        ),
      );

/** Runs the members one after another, each on the updates the previous one returned. */
const updateInTurn =
  (members: readonly GradientTransformation<any>[]) =>
  (updates: Tree, state: ChainState, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<ChainState>> => {
    const checked = checkChainState(members.length, state);
    if (E.isLeft(checked)) return checked;
    const ctx = context ?? { grads: updates };
    let u = updates;
    const next: unknown[] = [];
    for (let k = 0; k < members.length; k++) {
      const step = members[k]!.update(u, checked.right[k], params, ctx);
      if (E.isLeft(step)) return step;
      u = step.right[0];
      next.push(step.right[1]);
    }
    return E.right([u, Object.freeze(next)] as const);
  };

/** The members' plans run together: one kernel per leaf that applies every member's kernel to each block in turn. */
const fuseAll = (members: readonly GradientTransformation<any>[]): Fusable<ChainState> | undefined => {
  const parts = members.map((m) => m.fusable);
  if (!parts.every((f): f is Fusable<any> => f !== undefined)) return undefined;
  return {
    begin: (state, trees) => {
      const checked = checkChainState(members.length, state);
      if (E.isLeft(checked)) return checked;
      const plans: StepPlan<unknown>[] = [];
      for (let k = 0; k < parts.length; k++) {
        const plan = parts[k]!.begin(checked.right[k], trees);
        if (E.isLeft(plan)) return plan;
        plans.push(plan.right);
      }
      const math = plans.every((p) => p.math !== undefined) ? plans.flatMap((p) => p.math!) : undefined;
      return E.right({
        ...(math !== undefined ? { math } : {}),
        leaf: (input) => {
          const kernels: (BlockKernel | null)[] = [];
          for (const plan of plans) {
            const k = plan.leaf(input);
            if (E.isLeft(k)) return k;
            kernels.push(k.right);
          }
          return E.right(composeKernels(kernels));
        },
        finish: () => Object.freeze(plans.map((p) => p.finish())),
      });
    },
  };
};

const chainOf = (given: readonly GradientTransformation<any>[], fuse: boolean): GradientTransformation<ChainState> => {
  const checked = transformations("chain", given, (i) => `member ${i}`);
  if (E.isLeft(checked)) return failing("chain", {}, checked.left);
  const members = checked.right;
  const fusable = fuse ? fuseAll(members) : undefined;
  const init = initAll(members);
  const spec = { name: "chain", hyperparams: { members: members.map(specOf) } } as const;
  return Object.freeze(
    fusable
      ? { ...spec, init, fusable, update: (u: Tree, s: ChainState, p?: Tree, c?: UpdateContext) => runFused(fusable, u, s, p, c) }
      : { ...spec, init, update: updateInTurn(members) },
  );
};

/**
 * Applies transformations in sequence: u ← tₙ(…t₂(t₁(u))), state = [s₁, …, sₙ].
 * When every member is elementwise (has `fusable`), the chain runs them fused, one pass per leaf, with the same
 * bits as running them in turn ({@link chainUnfused}); every member sees the gradient the chain started from.
 *
 * @example
 * const sgdMomentum = chain(traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
 */
export const chain = (...members: readonly GradientTransformation<any>[]): GradientTransformation<ChainState> =>
  chainOf(members, true);

/**
 * The same composition as {@link chain}, always run member by member, each materialising its updates:
 * the reference path that fused chains are tested against bit for bit: u ← tₙ(…t₁(u)), materialised after each tᵢ.
 * @example
 * const reference = chainUnfused(traceMomentum({ momentum: 0.9 }), scaleByLr(0.1)); // same bits as chain(...)
 */
export const chainUnfused = (...members: readonly GradientTransformation<any>[]): GradientTransformation<ChainState> =>
  chainOf(members, false);
