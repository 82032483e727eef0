/**
 * One whole optimizer step, update and apply together: what a training loop calls when it does not need the
 * updates themselves. Fused, it makes one pass per leaf and allocates only the new params and the new state;
 * with donation it allocates nothing.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates } from "./apply.js";
import { donatedStorage, leavesOf, markDonated, type StateWalk } from "./donation.js";
import { bindLeaves, BLOCK, freshStorage, mathRunner, planLeaves, stepTrees } from "./elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import { withoutCompiledMath } from "./executor.js";
import { isTransformation } from "./options.js";
import { denseValues, dtypeOf, type FloatArray, type Leaf } from "./leaf.js";
import { madeLeaf } from "./views.js";
import { madeTree } from "./treeBuild.js";
import type { MatrixProduct } from "./matrixProduct.js";
import type { AppliedStep, BlockKernel, CompiledMath, Fusable, FusableTail, GradientTransformation, UpdateContext } from "./transform.js";
import { flatten, flattenLike, type Flat, type Tree } from "./tree.js";

/** Options of {@link applyStep}. */
export interface ApplyStepOptions {
  /**
   * Hand the old params and state over to the step (JAX's buffer donation): it may write the new values into
   * their storage, so a step allocates nothing. They are dead afterwards: passing them to larch again is a
   * `StateReused` Left. Leaves whose storage another leaf of the inputs shares, or that are strided views, are
   * not overwritten (they get fresh storage). The results are the same bits either way.
   */
  readonly donate?: boolean;
}

/**
 * `applyStep` over an optional compiled executor of the expression form (`CompiledMath`, which the kernels provide
 * from outside the core): with (u, s′) = opt.update(g, s, p), the step returns (p + u, s′), leaf by leaf, bit for
 * bit what `update` followed by {@link applyUpdates} gives. The public `applyStep` is this over the WebAssembly
 * kernels (see `kernels/applyStep.ts`); without an executor every step runs in JavaScript.
 *
 * For a fusable optimizer (an elementwise chain), each leaf is one pass over memory: in the expression form, one
 * loop per leaf with every member's math inlined (the compiled executor's, or generated JavaScript); otherwise, per
 * block of {@link BLOCK} values, u ← g, every member's kernel rewrites u in a scratch block of the leaf's dtype,
 * then p′ = p + u is stored. The update tree is never materialised. Every per-leaf check (non-finite norms, state
 * mismatches) runs before the first value is written, so a Left leaves everything as it was, donated or not.
 * A chain that ends in a run of fusable members after others (`fusableTail`: adafactor) runs its head by `update`,
 * then that run as above, from the head's updates, fused with p + u.
 * Other optimizers run `update` and then `applyUpdates`, with the executor's matrix product in the update's context
 * (`CompiledMath.matrixProduct`: Muon's Newton–Schulz in WebAssembly, the same bits).
 * @example
 * const jsOnly = applyStepWith(undefined);
 * const step = jsOnly(lars({ lr: 0.1, momentum: 0.9 }), grads, state, params); // the same bits as applyStep
 */
export const applyStepWith =
  (compiled: CompiledMath | undefined) =>
  <S>(opt: GradientTransformation<S>, grads: Tree, state: S, params: Tree, options: ApplyStepOptions = {}): E.Either<OptimizerError, AppliedStep<S>> => {
    if (!isTransformation(opt)) return E.left(optimizerError("InvalidOption", `applyStep: ${showValue(opt)} is not a transformation (an object with init and update functions)`));
    let donate: boolean;
    try {
      donate = options?.donate === true;
    } catch (e) {
      return E.left(optimizerError("InvalidOption", `applyStep: reading option donate threw ${showValue(e)}`));
    }
    const walk: StateWalk | undefined = donate ? {} : undefined; // what a fused step's donation finds in the state, marked after
    const result = opt.fusable
      ? fusedStep(opt, opt.fusable, compiled, grads, state, params, walk)
      : opt.fusableTail
        ? tailStep(opt, opt.fusableTail, compiled, grads, state, params, walk)
        : updateThenApply(opt, grads, state, params, compiled?.matrixProduct);
    if (walk !== undefined && E.isRight(result)) markDonated([params, state], [...result.right, grads], walk);
    return result;
  };

/** The context an update run by `applyStep` gets: the executor's matrix product, if it has one (the same bits as without). */
const contextFor = (grads: Tree, matrixProduct: MatrixProduct | undefined): UpdateContext | undefined =>
  matrixProduct === undefined ? undefined : { grads, matrixProduct };

/** `update` (handed the executor's matrix product, if any: the same bits as without it), then `applyUpdates`. */
const updateThenApply = <S>(opt: GradientTransformation<S>, grads: Tree, state: S, params: Tree, matrixProduct: MatrixProduct | undefined): E.Either<OptimizerError, AppliedStep<S>> => {
  const step = opt.update(grads, state, params, contextFor(grads, matrixProduct));
  if (E.isLeft(step)) return step;
  const next = applyUpdates(params, step.right[0]);
  return E.isLeft(next) ? next : E.right([next.right, step.right[1]] as const);
};

/**
 * A fused step's Left, or the reference's: a fused plan checks its members one after another per leaf, `update`
 * checks every leaf of one member before the next, so when both fail on one step `update` says which Left comes
 * first (only on the failure path: nothing was written).
 */
const referenceLeft = <S>(
  opt: GradientTransformation<S>,
  step: E.Either<OptimizerError, AppliedStep<S>>,
  grads: Tree,
  state: S,
  params: Tree,
): E.Either<OptimizerError, AppliedStep<S>> => {
  if (E.isRight(step)) return step;
  const reference = withoutCompiledMath(() => opt.update(grads, state, params)); // the same Left; its results are dropped
  return E.isLeft(reference) ? reference : step;
};

const fusedStep = <S>(
  opt: GradientTransformation<S>,
  fusable: Fusable<S>,
  compiled: CompiledMath | undefined,
  gradTree: Tree,
  state: S,
  paramTree: Tree,
  donation: StateWalk | undefined,
): E.Either<OptimizerError, AppliedStep<S>> => {
  const grads = flatten(gradTree);
  if (E.isLeft(grads)) return grads;
  const params = flattenLike(grads.right, paramTree, ["grads", "params"]);
  if (E.isLeft(params)) return params;
  const step = plannedStep(fusable, compiled, { updates: grads.right, params: params.right }, grads.right, state, donation, []);
  return referenceLeft(opt, step, gradTree, state, paramTree);
};

/**
 * A chain with a fusable tail: its head (the members before the tail) in turn, then the tail fused with p + u, from
 * the updates u the head returned, every member reading the gradient the chain started from. The trees are checked
 * as the tail's `update` would check them (u against p, then against g).
 */
const tailStep = <S>(
  opt: GradientTransformation<S>,
  split: FusableTail<S>,
  compiled: CompiledMath | undefined,
  gradTree: Tree,
  state: S,
  paramTree: Tree,
  donation: StateWalk | undefined,
): E.Either<OptimizerError, AppliedStep<S>> => {
  const head = split.head(gradTree, state, paramTree, contextFor(gradTree, compiled?.matrixProduct));
  if (E.isLeft(head)) return head;
  const { updates, tail, held } = head.right;
  const checked = stepTrees(updates, paramTree, { grads: gradTree });
  if (E.isLeft(checked)) return checked;
  const { trees, grads } = checked.right;
  const step = plannedStep(tail, compiled, { updates: trees.updates, params: trees.params! }, grads, state, donation, held);
  return referenceLeft(opt, step, gradTree, state, paramTree);
};

/**
 * One fused step over checked trees: p′ = p + k(u) per leaf, where u is `trees.updates` (the gradient itself, or what
 * a chain's head returned) and every member reads g = `grads`. Nothing is written before every leaf is bound.
 */
const plannedStep = <S>(
  fusable: Fusable<S>,
  compiled: CompiledMath | undefined,
  trees: { readonly updates: Flat; readonly params: Flat },
  grads: Flat,
  state: S,
  donation: StateWalk | undefined,
  held: readonly unknown[],
): E.Either<OptimizerError, AppliedStep<S>> => {
  const { params } = trees;
  const plan = fusable.begin(state, trees);
  if (E.isLeft(plan)) return plan;
  const reusable = donation ? donatedStorage(params, grads, state, held, donation) : undefined;
  const storage = reusable ? (old: Leaf) => reusable.take(old) ?? freshStorage(old) : freshStorage;
  const math = plan.right.math;
  const fromGrads = trees.updates === grads;
  if (math !== undefined) {
    const done = compiled?.applyStep(math, trees, grads, reusable, leavesOf(held));
    if (done !== undefined)
      return E.map((leaves: Leaf[]) => [madeTree(params.def, leaves, params.paths), plan.right.finish()] as const)(done);
    // the expression form: one generated loop per leaf, every member inlined, p′ = p + u′ stored
    const bound = bindLeaves(math, trees, grads, storage);
    if (E.isLeft(bound)) return bound;
    const run = mathRunner(math, "apply");
    const out = params.leaves.map((leaf, i) => {
      const next = storage(leaf);
      const b = bound.right[i]!;
      run(b, fromGrads ? b.input.grads : denseValues(trees.updates.leaves[i]!), next);
      return madeLeaf(next, leaf.shape, leaf);
    });
    return E.right([madeTree(params.def, out, params.paths), plan.right.finish()] as const);
  }
  const kernels = planLeaves(plan.right, trees, grads, storage);
  if (E.isLeft(kernels)) return kernels;
  const out = params.leaves.map((leaf, i) => {
    const next = storage(leaf);
    applyLeaf(kernels.right[i]!, denseValues(leaf), denseValues(trees.updates.leaves[i]!), next, SCRATCH[dtypeOf(leaf)]);
    return madeLeaf(next, leaf.shape, leaf);
  });
  return E.right([madeTree(params.def, out, params.paths), plan.right.finish()] as const);
};

/**
 * The block of u, one per dtype, shared by every step: a step uses it only between reading a block of g and storing
 * that block of p′, and kernels never start another step, so no two uses overlap (no allocation per step).
 */
const SCRATCH = { float32: new Float32Array(BLOCK), float64: new Float64Array(BLOCK) } as const;

/**
 * One leaf: per block, u ← g (or the chain's head's u); u ← k(u) (the fused members' kernels); p′ ← p + u. `next` may be `p`'s own
 * storage (donation): each block of p is read by the kernels before p′ overwrites it.
 */
const applyLeaf = (kernel: BlockKernel | null, p: FloatArray, g: FloatArray, next: FloatArray, scratch: FloatArray): void => {
  const size = p.length;
  if (kernel === null) {
    for (let i = 0; i < size; i++) next[i] = p[i]! + g[i]!; // p′ = p + g
    return;
  }
  for (let lo = 0; lo < size; lo += BLOCK) {
    const hi = Math.min(size, lo + BLOCK);
    scratch.set(hi - lo === g.length ? g : g.subarray(lo, hi)); // u ← g (a leaf of one block: no view of g)
    kernel(scratch, lo, hi); // u ← k(u)
    for (let i = lo, j = 0; i < hi; i++, j++) next[i] = p[i]! + scratch[j]!; // p′ = p + u
  }
};
