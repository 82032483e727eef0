/**
 * The protocol every optimizer piece follows: a pure pair of functions over trees and immutable state records.
 * @module
 */
import type * as E from "fp-ts/lib/Either.js";
import type { OptimizerError } from "./errors.js";
import type { Body } from "./expression.js";
import type { Dtype, FloatArray, Leaf } from "./leaf.js";
import type { MatrixProduct } from "./matrixProduct.js";
import type { Reusable } from "./donation.js";
import type { Flat, Tree } from "./tree.js";

/** A JSON-like value describing a hyper-parameter (for checkpoints, reports and error messages). */
export type HyperValue = number | string | boolean | null | readonly HyperValue[] | { readonly [key: string]: HyperValue };

/** Named hyper-parameter values. */
export type HyperRecord = { readonly [key: string]: HyperValue };

/** What a transformation is: its name and hyper-parameters (nested for chains and partitions). */
export interface TransformSpec {
  readonly name: string;
  readonly hyperparams: HyperRecord;
}

/**
 * What every update may see besides the incoming updates, state and params: the gradient the outermost
 * chain started from. A transformation deep inside a chain (such as {@link scaleByTrustRatio}, whose ratio is
 * the seed's ‖p‖ / (‖g‖ + wd·‖p‖) of the raw gradient g) reads it here, as optax's extra-args transforms do.
 * When `update` is called without a context, the gradient is the `updates` argument itself.
 */
export interface UpdateContext {
  readonly grads: Tree;
  /**
   * The arithmetic of matrix products for transformations that multiply matrices (Muon's Newton–Schulz): `applyStep`
   * passes its compiled executor's (the kernels' WebAssembly), with the bits of the core's JavaScript product. When
   * absent, `matmul` takes the installed executor's (`core/executor.ts`), else the JavaScript. Containers hand it on.
   */
  readonly matrixProduct?: MatrixProduct;
}

/** The result of one update: the transformed updates and the new state. */
export type Step<S> = readonly [updates: Tree, state: S];

/**
 * A gradient transformation (optax's `GradientTransformation`): `init` builds the state for a params tree,
 * `update` maps (updates, state, params) to (new updates, new state). Both are pure: no input is mutated,
 * outputs are fresh, frozen data, and every failure is a `Left`.
 */
export interface GradientTransformation<S = unknown> extends TransformSpec {
  /** The state before the first step, for this params tree. */
  init(params: Tree): E.Either<OptimizerError, S>;
  /** One step: (u, s, p) ↦ (u′, s′). `params` is required by transformations that read p (weight decay, trust ratios). */
  update(updates: Tree, state: S, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<S>>;
  /**
   * Present when the step is elementwise per leaf after per-leaf scalars (norms, a learning rate) are known.
   * A chain of such transformations fuses them into one pass per leaf (see `core/elementwise.ts`).
   */
  readonly fusable?: Fusable<S>;
  /**
   * Present on a chain that is not fusable as a whole but ends in a run of fusable members (adafactor: row and column
   * means and a clip, then six elementwise members): `applyStep` runs the members before that run, then the run fused
   * with p + u (see {@link FusableTail}).
   */
  readonly fusableTail?: FusableTail<S>;
}

/** A chain whose last run of members is fusable, split so that `applyStep` can fuse that run with p + u. */
export interface FusableTail<S> {
  /**
   * The members of a chain before its last run of fusable members, run on the gradient g in turn
   * (u = t_h(…t₁(g))), and that run as a step of its own from u: its `tail.begin` takes the chain's whole state, and
   * its plan's `finish` gives the chain's new state (the head's new states, then the run's). `held` is what the head's
   * results hold (u, its new states): a donating step must not overwrite any storage they view. A Left is the head's,
   * as running it alone. `context` (its grads being `grads`) is handed to the head's members, as `update`'s is.
   */
  head(grads: Tree, state: S, params: Tree, context?: UpdateContext): E.Either<OptimizerError, { readonly updates: Tree; readonly tail: Fusable<S>; readonly held: readonly unknown[] }>;
}

/** The result of a whole step: the new params and the new state. */
export type AppliedStep<S> = readonly [params: Tree, state: S];

/**
 * A compiled executor of whole steps in the expression form (the kernels' WebAssembly, say), handed to the core's
 * `applyStepWith` from outside the core (and installed for fused updates, `core/executor.ts`).
 */
export interface CompiledMath {
  /**
   * Present when the executor multiplies matrices too: `applyStep` hands it to every update it runs through
   * `update` (in the {@link UpdateContext}), so the transformations that multiply matrices use it.
   */
  readonly matrixProduct?: MatrixProduct;
  /**
   * One whole step (what `applyStep` asks first): binds the leaves (`bindLeaves`, with state storage of its
   * choosing), runs every leaf's pass and returns the new params' leaves, in leaf order, with exactly the bits of the
   * generated JavaScript; or a member's Left; or undefined, having written nothing the caller sees, for inputs it does
   * not take (then the JavaScript loop runs), or for a step its pass found a NaN or ±Inf in after a check took its
   * offer ({@link LeafInput.checkFiniteInPass}: the leaves were bound, and the JavaScript binds them again and
   * returns the check's Left). The pass reads u from `trees.updates` (the gradient itself, or what a
   * chain's head returned) and g from `grads`; `held` are leaves results computed before the step hold (a chain's
   * head's), whose storage must not be reclaimed.
   */
  applyStep(
    math: readonly MemberMath[],
    trees: { readonly updates: Flat; readonly params: Flat },
    grads: Flat,
    donated: Reusable | undefined,
    held?: readonly Leaf[],
  ): E.Either<OptimizerError, Leaf[]> | undefined;
  /**
   * One fused `update` (what `runFused` asks first when this executor is installed, see `core/executor.ts`): binds
   * the leaves with fresh state storage (`bindLeaves`), runs every leaf's pass over the incoming updates and returns
   * the new updates' leaves u′, in leaf order, with exactly the bits of the generated JavaScript's "update" loop; or a
   * member's Left; or undefined, having written nothing the caller sees, for inputs it does not take or a step its
   * pass refused (as for {@link CompiledMath.applyStep}).
   */
  update?(math: readonly MemberMath[], trees: StepTrees, grads: Flat): E.Either<OptimizerError, Leaf[]> | undefined;
  /**
   * `applyUpdates` once its trees are checked (what `core/apply.ts` asks first when this executor is installed):
   * p′ = p + u leaf by leaf, rounded to the leaves' dtype (float32: exactly Math.fround(p + u)), the new params'
   * leaves in leaf order, with the shapes of `params`; or undefined, having written nothing, for trees it does not
   * take (then the JavaScript loop runs). `params` and `updates` have the same structure, shapes and dtypes; neither
   * is written.
   */
  applyUpdates?(params: Flat, updates: Flat): Leaf[] | undefined;
}

/**
 * What one leaf offers a fused step: where it is, its raw gradient and its params as dense row-major arrays. Its
 * methods are called on it (`input.sumOfSquares("grads")`): the core's inputs keep them on a prototype, not as
 * closures per leaf.
 */
export interface LeafInput {
  /** Position in the deterministic leaf order. */
  readonly index: number;
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly size: number;
  /** The gradient the outermost chain started from (read-only). */
  readonly grads: FloatArray;
  /** The params, when the update was given them (read-only). */
  readonly params: FloatArray | undefined;
  /**
   * Where to write the new value of one of this leaf's state leaves (a momentum buffer, a moment estimate), given
   * its old value: a fresh array of its dtype and size, or, when the caller donated the old state
   * (`applyStep` with `donate: true`), the old leaf's own storage. A kernel writing there reads each old value
   * before it writes the new one at the same index, so both cases give the same bits.
   */
  stateStorage(old: Leaf): FloatArray;
  /**
   * Σx² of the leaf's raw gradient or params (NaN without params), in float64 in the order of `core/norm.ts`'s
   * `sumOfSquares`, computed once per leaf and step: by an executor where its memory holds the values (the
   * kernels' WebAssembly), else in JavaScript. The same bits either way. See `leafNorm`.
   */
  sumOfSquares(of: "grads" | "params"): number;
  /**
   * Asks the executor running this step to check the leaf's raw gradient and params for NaN and ±Inf in its own
   * pass instead: true when it will, and then hands nothing out when it finds one (it runs the step again without
   * this offer, where the check that asked meets the value and returns its Left), so the check may skip its read of
   * g and p; false (or absent) when the check must read them now. Only a check that refuses the step should ask: a
   * step that asked and meets a NaN runs again on the slower path.
   */
  checkFiniteInPass?(): boolean;
}

/**
 * Rewrites one block of a leaf's update in place: `u[j]` holds the update of the leaf's value `lo + j`, for
 * `j < hi − lo`, so the kernel reads its other arrays (params, a momentum buffer) at `lo + j`. `u` has the leaf's
 * dtype, so each store rounds to it, exactly as materialising the update between two transformations would.
 */
export type BlockKernel = (u: FloatArray, lo: number, hi: number) => void;

/** What one member of a fused step reads for one leaf: its scalars by slot, and per state array its old and new storage. */
export interface LeafBinding {
  /** the values of the body's scalars, in its slot order (`Body.scalars`) */
  readonly scalars: readonly number[];
  /** old₀, new₀, old₁, new₁, …: each state array's old values and where its new ones go (the old storage when donated) */
  readonly arrays: readonly FloatArray[];
}

/**
 * One member's math in one step, in the expression form (see `core/expression.ts`): its body (null: u′ = u this step)
 * and, per leaf, what the body reads there. `bind` does the leaf's per-leaf work (its norms, its checks, where its new
 * state goes), as `leaf` would.
 */
export interface MemberMath {
  readonly body: Body | null;
  /**
   * The leaf's binding (the body's scalars and state arrays there), or the Left of its per-leaf checks. A step may
   * bind a leaf twice (an executor that refused the step after binding, then the JavaScript path): the second
   * binding must replace the first, not add to it.
   */
  bind(input: LeafInput): E.Either<OptimizerError, LeafBinding>;
}

/** One step of a fusable transformation: a kernel per leaf (or null where it leaves the leaf unchanged), then the new state. */
export interface StepPlan<S> {
  /** Called once per leaf, in leaf order: the per-leaf scalars are computed here, and the kernel returned. */
  leaf(input: LeafInput): E.Either<OptimizerError, BlockKernel | null>;
  /**
   * Present when the step is in the expression form: its members' math, in order (one for a transformation, every
   * member's for a chain). An executor then generates one loop per leaf from the bodies and calls every member's
   * `bind` once per leaf, in leaf order, instead of `leaf` (never both).
   */
  readonly math?: readonly MemberMath[];
  /** Called after every leaf ran: the new state. */
  finish(): S;
}

/** The trees of one step, taken apart once for every member of a fused chain. */
export interface StepTrees {
  readonly updates: Flat;
  readonly params: Flat | undefined;
}

/** The fusable form of a transformation: check the state against the trees and plan one step. */
export interface Fusable<S> {
  /** Checks the state against the step's trees (a StateMismatch Left if it was made for another optimizer or tree). */
  begin(state: S, trees: StepTrees): E.Either<OptimizerError, StepPlan<S>>;
}

/**
 * A transformation's spec, as recorded in checkpoints and reports.
 * @example
 * specOf(lars({ lr: 0.1 })) // { name: "lars", hyperparams: { members: [...] } }
 */
export const specOf = (t: TransformSpec): HyperRecord => {
  try {
    return { name: t.name, hyperparams: t.hyperparams };
  } catch {
    return { name: "unknown", hyperparams: {} }; // not a transformation, or a Proxy whose get trap throws
  }
};
