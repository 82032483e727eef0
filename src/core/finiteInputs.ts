/**
 * Refusing a step whose gradient or params hold NaN or ±Inf, before anything is written: for optimizers whose step
 * computes no norm to read it from (sgd, adam, adamw; a trust ratio's norms already tell, see `trustRatio.ts`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { runFused } from "./elementwise.js";
import { optimizerError, showPath, type OptimizerError } from "./errors.js";
import { denseValues, type FloatArray } from "./leaf.js";
import type { Fusable, GradientTransformation, LeafInput, MemberMath, StepPlan, UpdateContext } from "./transform.js";
import type { Flat, Tree } from "./tree.js";

/** True when every value is finite: Σ (xᵢ − xᵢ) is 0 then, and NaN as soon as one xᵢ is NaN or ±Inf (no branch per value). */
const allFinite = (x: FloatArray): boolean => {
  let s0 = 0;
  let s1 = 0;
  const n = x.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += x[i]! - x[i]!;
    s1 += x[i + 1]! - x[i + 1]!;
  }
  if (i < n) s0 += x[i]! - x[i]!;
  return s0 + s1 === 0;
};

const nonFinite = (what: string, values: FloatArray, path: string, step: number): OptimizerError =>
  optimizerError(
    "NonFinite",
    `${what} ${showPath(path)} contains ${values.some(Number.isNaN) ? "NaN" : "±Inf"} at step ${step}; the state is unchanged, so the batch can be dropped`,
    { path, step },
  );

/**
 * Right when leaf `input`'s incoming updates (by default its raw gradient) and params are finite; else a NonFinite
 * Left naming the leaf and the step.
 * @example
 * const finite = finiteLeaf(input, 3); // in a plan's per-leaf work, before any kernel runs
 */
export const finiteLeaf = (input: LeafInput, step: number, updates: FloatArray = input.grads): E.Either<OptimizerError, void> => {
  // what the step consumes: the gradient itself, or (inside a chain) the updates of the members before it
  if (!finite(input, updates, "grads")) return E.left(nonFinite(updates === input.grads ? "gradient" : "update", updates, input.path, step));
  if (input.params !== undefined && !finite(input, input.params, "params")) return E.left(nonFinite("parameter", input.params, input.path, step));
  return FINITE;
};

const FINITE: E.Either<OptimizerError, void> = E.right(undefined);

/**
 * A float32 leaf is finite where its Σx² is (a square is at most 1.2e77: no float64 overflow), which the step may
 * have computed in a kernel; float64 values may square past the largest float64, and get Σ (x − x). The leaf's own
 * g or p needs no read here when the executor's pass checks them ({@link LeafInput.checkFiniteInPass}).
 */
const finite = (input: LeafInput, x: FloatArray, of: "grads" | "params"): boolean =>
  x !== (of === "grads" ? input.grads : input.params) ? allFinite(x) : input.checkFiniteInPass?.() === true || (input.dtype === "float32" ? Number.isFinite(input.sumOfSquares(of)) : allFinite(x));

/** The step count a state holds: its own `count`, or its first member's that has one (a chain's state), else 0. */
const countIn = (state: unknown): number => {
  const has = (s: unknown): s is { count: number } =>
    typeof s === "object" && s !== null && Number.isSafeInteger((s as { count?: unknown }).count);
  if (has(state)) return state.count;
  if (Array.isArray(state)) for (const member of state) if (has(member)) return member.count;
  return 0;
};

/** The plan with leaf i's finiteness checked before its own per-leaf work (its first member's, in the expression form). */
const checkedPlan = <S>(plan: StepPlan<S>, step: number, updates: Flat): StepPlan<S> => {
  const check = (input: LeafInput) => finiteLeaf(input, step, denseValues(updates.leaves[input.index]!));
  const math = plan.math;
  const first = math?.[0];
  const checkedMath: readonly MemberMath[] | undefined =
    math === undefined || first === undefined
      ? math
      : [{ body: first.body, bind: (input) => { const c = check(input); return E.isLeft(c) ? c : first.bind(input); } }, ...math.slice(1)];
  return {
    leaf: (input) => { const c = check(input); return E.isLeft(c) ? c : plan.leaf(input); },
    ...(checkedMath !== undefined ? { math: checkedMath } : {}),
    finish: () => plan.finish(),
  };
};

/**
 * `t`, refusing any step whose incoming updates (the raw gradient g, unless members before it in a chain changed
 * them) or params p hold a NaN or ±Inf: a NonFinite Left naming the leaf and the step, found by one read per leaf while the step is planned, so before anything is written (the
 * state handed in is unchanged, and with donation nothing is overwritten). The same math, the same bits otherwise.
 * For a fusable `t` (an elementwise chain); any other is returned as it is.
 * @example
 * const opt = refusingNonFinite(namedChain("sgd", addWeightDecay(wd), traceMomentum({ momentum }), scaleByLr(lr)));
 */
export const refusingNonFinite = <S>(t: GradientTransformation<S>): GradientTransformation<S> => {
  const inner = t.fusable;
  if (inner === undefined) return t;
  const fusable: Fusable<S> = {
    begin: (state, trees) => E.map((plan: StepPlan<S>) => checkedPlan(plan, countIn(state), trees.updates))(inner.begin(state, trees)),
  };
  return Object.freeze({
    ...t,
    fusable,
    update: (updates: Tree, state: S, params?: Tree, context?: UpdateContext) => runFused(fusable, updates, state, params, context),
  });
};
