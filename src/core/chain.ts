/**
 * Composition: `chain(t₁, …, tₙ)` applies its members in order, u ← tₙ(…t₁(u)), each with its own state;
 * the chain's state is the tuple of its members' states.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { isDonated, reusedError } from "./donation.js";
import { composeKernels, failing, runFused } from "./elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import type { BlockKernel, Fusable, FusableTail, GradientTransformation, Step, StepPlan, UpdateContext } from "./transform.js";
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

/**
 * Members [from, to) of a chain: a maximal run of consecutive fusable members, fused (`fused`, one pass per leaf), or
 * one member that is not fusable (`fused` undefined, to = from + 1).
 */
interface Run {
  readonly from: number;
  readonly to: number;
  readonly fused: Fusable<ChainState> | undefined;
  /** the run's members in turn: its reference, which says which Left a failing fused run returns */
  readonly inTurn: ReturnType<typeof updateInTurn>;
}

/** The chain cut into runs: [t₁ … tₙ] = [r₁ | r₂ | …], each run fusable members as long as they last, or one other. */
const runsOf = (members: readonly GradientTransformation<any>[]): readonly Run[] => {
  const runs: Run[] = [];
  for (let from = 0; from < members.length; ) {
    let to = from + 1;
    if (members[from]!.fusable !== undefined) while (to < members.length && members[to]!.fusable !== undefined) to++;
    const part = members.slice(from, to);
    runs.push({ from, to, fused: fuseAll(part), inTurn: updateInTurn(part) });
    from = to;
  }
  return runs;
};

/**
 * One run's step on u: fused, or the member itself. A fused run checks member after member per leaf where the
 * members in turn check every leaf of one member before the next, so when it fails, its members in turn say which
 * Left comes first (the failure path only: nothing was written, nothing is kept).
 */
const runStep = (run: Run, u: Tree, states: ChainState, params: Tree | undefined, ctx: UpdateContext): E.Either<OptimizerError, Step<ChainState>> => {
  const own = states.slice(run.from, run.to);
  if (run.fused === undefined || run.to - run.from === 1) return run.inTurn(u, own, params, ctx);
  const fused = runFused(run.fused, u, own, params, ctx);
  if (E.isRight(fused)) return fused;
  const reference = run.inTurn(u, own, params, ctx);
  return E.isLeft(reference) ? reference : fused;
};

/** Runs [0, upTo) in turn from u = g: the updates they return, their new states pushed onto `next`. */
const runRuns = (
  runs: readonly Run[],
  upTo: number,
  updates: Tree,
  states: ChainState,
  params: Tree | undefined,
  ctx: UpdateContext,
  next: unknown[],
): E.Either<OptimizerError, Tree> => {
  let u = updates;
  for (let r = 0; r < upTo; r++) {
    const step = runStep(runs[r]!, u, states, params, ctx);
    if (E.isLeft(step)) return step;
    u = step.right[0];
    next.push(...step.right[1]);
  }
  return E.right(u);
};

/**
 * The chain's update, run by run: every run sees the gradient the chain started from (`ctx.grads`: the context
 * handed in, else the chain's own `updates`) and the same params, as every member does run in turn.
 */
const updateByRuns =
  (n: number, runs: readonly Run[]) =>
  (updates: Tree, state: ChainState, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<ChainState>> => {
    const checked = checkChainState(n, state);
    if (E.isLeft(checked)) return checked;
    const next: unknown[] = [];
    const u = runRuns(runs, runs.length, updates, checked.right, params, context ?? { grads: updates }, next);
    return E.isLeft(u) ? u : E.right([u.right, Object.freeze(next)] as const);
  };

/**
 * The runs before the last one, then the last (fused) run as a step of its own from the updates they returned:
 * what `applyStep` fuses with p + u. Its `begin` takes the chain's state and its plan's `finish` gives the chain's
 * new state (the head's new states, then the tail's).
 */
const tailOf = (n: number, runs: readonly Run[]): FusableTail<ChainState> => ({
  head: (grads, state, params, context) => {
    const checked = checkChainState(n, state);
    if (E.isLeft(checked)) return checked;
    const last = runs[runs.length - 1]!;
    const head: unknown[] = [];
    const u = runRuns(runs, runs.length - 1, grads, checked.right, params, context ?? { grads }, head);
    if (E.isLeft(u)) return u;
    const tail: Fusable<ChainState> = {
      begin: (_state, trees) =>
        E.map((plan: StepPlan<ChainState>) => ({ ...plan, finish: () => Object.freeze([...head, ...plan.finish()]) }))(
          last.fused!.begin(checked.right.slice(last.from), trees),
        ),
    };
    return E.right({ updates: u.right, tail, held: [u.right, head] });
  },
});

const chainOf = (given: readonly GradientTransformation<any>[], fuse: boolean): GradientTransformation<ChainState> => {
  const checked = transformations("chain", given, (i) => `member ${i}`);
  if (E.isLeft(checked)) return failing("chain", {}, checked.left);
  const members = checked.right;
  const init = initAll(members);
  const spec = { name: "chain", hyperparams: { members: members.map(specOf) } } as const;
  if (!fuse) return Object.freeze({ ...spec, init, update: updateInTurn(members) });
  const runs = runsOf(members);
  const update = updateByRuns(members.length, runs);
  const whole = runs.length === 1 ? runs[0]!.fused : undefined;
  if (whole !== undefined) return Object.freeze({ ...spec, init, fusable: whole, update });
  const tail = runs.length > 1 && runs[runs.length - 1]!.fused !== undefined ? { fusableTail: tailOf(members.length, runs) } : {};
  return Object.freeze({ ...spec, init, update, ...tail });
};

/**
 * Applies transformations in sequence: u ← tₙ(…t₂(t₁(u))), state = [s₁, …, sₙ].
 * Each maximal run of consecutive elementwise members (those with `fusable`) runs fused, one pass per leaf, with
 * the members that are not (a whole-leaf reduction, a matrix product) between the runs; the result has the same bits
 * as running every member in turn ({@link chainUnfused}), and the same Left. Every member sees the gradient the
 * chain started from. A chain whose members are all elementwise is itself fusable; one that ends in a run of them
 * (adafactor) lets `applyStep` fuse that run with p + u (`fusableTail`).
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
