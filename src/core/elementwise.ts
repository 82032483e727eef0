/**
 * Elementwise transformations and the executor that runs them, alone or fused.
 *
 * A fusable transformation plans its step per leaf: from the leaf's raw gradient and params it computes its
 * scalars (a norm, a learning rate) and returns a {@link BlockKernel} that rewrites the leaf's update block by
 * block. Run alone, its kernel sees the whole update; fused in a chain, every member's kernel runs on one block
 * before the next block is read, so the chain makes one pass over memory per leaf. Each kernel stores into an
 * array of the leaf's dtype, so a fused chain rounds exactly where the unfused one materialises: the two
 * paths give the same bits.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "./caught.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import { isDonated, reusedError } from "./donation.js";
import { allocate, denseValues, dtypeOf, sizeOf, type Dtype, type FloatArray, type Leaf } from "./leaf.js";
import { madeLeaf, madeSize } from "./views.js";
import { madeTree } from "./treeBuild.js";
import { leafLoop, type LeafLoop, type LoopMode } from "./compileJs.js";
import { compiledMath } from "./executor.js";
import { sumOfSquares } from "./norm.js";
import type {
  BlockKernel,
  Fusable,
  GradientTransformation,
  HyperValue,
  LeafBinding,
  LeafInput,
  MemberMath,
  Step,
  StepPlan,
  StepTrees,
  UpdateContext,
} from "./transform.js";
import { flatten, flattenLike, sameTreeType, unflatten, type Flat, type Tree } from "./tree.js";

/** Elements per block: small enough that a block of every array a kernel touches stays in the L1/L2 cache. */
export const BLOCK = 2048;

const withTrees = <A>(
  updates: Tree,
  params: Tree | undefined,
  context: UpdateContext | undefined,
  then: (trees: StepTrees, grads: Flat) => E.Either<OptimizerError, A>,
): E.Either<OptimizerError, A> => {
  const u = flatten(updates);
  if (E.isLeft(u)) return u;
  let p: Flat | undefined;
  if (params !== undefined) {
    const flat = flattenLike(u.right, params, ["updates", "params"]);
    if (E.isLeft(flat)) return flat;
    p = flat.right;
  }
  let g = u.right;
  if (context !== undefined && context.grads !== updates) {
    const flat = flattenLike(u.right, context.grads, ["updates", "gradient"]);
    if (E.isLeft(flat)) return flat;
    g = flat.right;
  }
  return then({ updates: u.right, params: p }, g);
};

/**
 * The trees of a step on `updates`, taken apart and checked as a fused step reads them: the params, then g (the
 * gradient the chain started from: `context.grads`, else the updates), each against the updates' type.
 * @example
 * const checked = stepTrees(u, params, { grads }); // Right({ trees, grads }), or a StructureMismatch Left
 */
export const stepTrees = (
  updates: Tree,
  params: Tree | undefined,
  context: UpdateContext | undefined,
): E.Either<OptimizerError, { readonly trees: StepTrees; readonly grads: Flat }> => {
  try {
    return withTrees(updates, params, context, (trees, grads) => E.right({ trees, grads }));
  } catch (e) {
    return threw("stepTrees", e); // a context that cannot be read
  }
};

/**
 * A fresh zero-filled array of a leaf's dtype and size n = ∏ₖ dₖ: a state leaf's storage when nothing was donated
 * (an empty array for anything that is not a leaf).
 * @example
 * const storage = freshStorage(traceLeaf); // Float32Array(traceLeaf.size) for a float32 leaf
 */
export const freshStorage = (old: Leaf): FloatArray => {
  try {
    const dtype = dtypeOf(old);
    const shape = old.shape;
    // the size a shape larch made carries; a vector's is its one extent (allocate refuses what sizeOf would: a
    // non-number, a negative, a fraction)
    return allocate(dtype, madeSize(shape) ?? (shape.length === 1 ? shape[0]! : sizeOf(shape)));
  } catch {
    return new Float64Array(0); // not a leaf
  }
};

/**
 * Plans a step for every leaf before any kernel runs: each member's per-leaf scalars (norms, rates) and checks
 * come first, so a Left (a non-finite norm at the last leaf, say) is returned before anything was written.
 * The building block of an executor ({@link runFused}, `applyStep`): kernels[i] is leaf i's k, or null.
 * @example
 * const kernels = pipe(fusable.begin(state, trees), E.chain((plan) => planLeaves(plan, trees, trees.updates, freshStorage)));
 */
export const planLeaves = <S>(
  plan: StepPlan<S>,
  trees: StepTrees,
  grads: Flat,
  stateStorage: (old: Leaf) => FloatArray,
): E.Either<OptimizerError, (BlockKernel | null)[]> => {
  try {
    return planLeavesOrThrow(plan, trees, grads, stateStorage);
  } catch (e) {
    return threw("planLeaves", e); // not a plan and step trees (a plain-JavaScript caller's junk), or a plan that throws
  }
};

const planLeavesOrThrow = <S>(
  plan: StepPlan<S>,
  trees: StepTrees,
  grads: Flat,
  stateStorage: (old: Leaf) => FloatArray,
): E.Either<OptimizerError, (BlockKernel | null)[]> => {
  const kernels: (BlockKernel | null)[] = [];
  for (let i = 0; i < trees.updates.leaves.length; i++) {
    const kernel = plan.leaf(leafInput(trees, grads, stateStorage, i));
    if (E.isLeft(kernel)) return kernel;
    kernels.push(kernel.right);
  }
  return E.right(kernels);
};

/** Σx² of leaf i's gradient or params as an executor computes it, or undefined (then JavaScript computes it). */
export type LeafSums = (index: number, of: "grads" | "params") => number | undefined;

/**
 * One leaf's {@link LeafInput}: an object of one shape for every leaf (its methods on the prototype, no closure per
 * leaf), its Σx² computed at most once each. Once its members are bound, it is the leaf's {@link BoundLeaf} too (its
 * own input, and their bindings): one object a leaf instead of two.
 */
class Input implements LeafInput, BoundLeaf {
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly size: number;
  readonly grads: FloatArray;
  readonly params: FloatArray | undefined;
  private sumG: number | undefined = undefined;
  private sumP: number | undefined = undefined;
  /** every member's binding of this leaf, set by {@link bindLeaves} */
  bindings: readonly LeafBinding[] = NO_BINDINGS;
  constructor(
    trees: StepTrees,
    grads: Flat,
    private readonly storage: (old: Leaf, index: number) => FloatArray,
    readonly index: number,
    private readonly sums: LeafSums | undefined,
    private readonly finiteInPass: FiniteInPass | undefined,
  ) {
    const leaf = trees.updates.leaves[index]!;
    this.path = trees.updates.paths[index]!;
    this.shape = leaf.shape;
    this.dtype = leaf.data instanceof Float32Array ? "float32" : "float64";
    this.size = sizeOf(leaf.shape);
    this.grads = denseValues(grads.leaves[index]!);
    this.params = trees.params ? denseValues(trees.params.leaves[index]!) : undefined;
  }
  get input(): LeafInput {
    return this;
  }
  stateStorage(old: Leaf): FloatArray {
    return this.storage(old, this.index);
  }
  checkFiniteInPass(): boolean {
    if (this.finiteInPass === undefined) return false;
    this.finiteInPass.asked = true;
    return true;
  }
  sumOfSquares(of: "grads" | "params"): number {
    if (of === "grads") return (this.sumG ??= this.sums?.(this.index, of) ?? sumOfSquares(this.grads));
    const p = this.params;
    return (this.sumP ??= p === undefined ? NaN : (this.sums?.(this.index, of) ?? sumOfSquares(p)));
  }
}

/** The bindings of an Input not bound yet. */
const NO_BINDINGS: readonly LeafBinding[] = Object.freeze([]);

const leafInput = (trees: StepTrees, grads: Flat, stateStorage: (old: Leaf, index: number) => FloatArray, i: number, sums?: LeafSums, finiteInPass?: FiniteInPass): Input =>
  new Input(trees, grads, stateStorage, i, sums, finiteInPass);

/**
 * An executor's offer to check g and p for NaN and ±Inf in its pass ({@link LeafInput.checkFiniteInPass}): `asked`
 * turns true when a leaf's check took it, so the executor must then refuse the step on a find.
 */
export interface FiniteInPass {
  asked: boolean;
}

/** Every leaf of a step in the expression form, bound before anything is written: its inputs and each member's binding. */
export interface BoundLeaf {
  readonly input: LeafInput;
  readonly bindings: readonly LeafBinding[];
}

/**
 * Binds every leaf of a step in the expression form (every member's `bind`, leaf by leaf), so that a Left (a
 * non-finite norm at the last leaf) comes before anything is written. What `runMath` then runs. `sums` gives the
 * leaves' Σx² where an executor computed them (see {@link LeafInput.sumOfSquares}); `finiteInPass`, the executor's
 * offer to check g and p for NaN and ±Inf in its pass (see {@link LeafInput.checkFiniteInPass}).
 * @example
 * const bound = bindLeaves(plan.math!, trees, trees.updates, freshStorage);
 */
export const bindLeaves = (
  math: readonly MemberMath[],
  trees: StepTrees,
  grads: Flat,
  stateStorage: (old: Leaf, index: number) => FloatArray,
  sums?: LeafSums,
  finiteInPass?: FiniteInPass,
): E.Either<OptimizerError, BoundLeaf[]> => {
  try {
    return bindLeavesOrThrow(math, trees, grads, stateStorage, sums, finiteInPass);
  } catch (e) {
    return threw("bindLeaves", e); // not members and step trees, or a binding that throws
  }
};

const bindLeavesOrThrow = (
  math: readonly MemberMath[],
  trees: StepTrees,
  grads: Flat,
  stateStorage: (old: Leaf, index: number) => FloatArray,
  sums: LeafSums | undefined,
  finiteInPass: FiniteInPass | undefined,
): E.Either<OptimizerError, BoundLeaf[]> => {
  // arrays of their final length (an array grown by push from empty holds 17 slots: most of a small leaf's garbage)
  const count = trees.updates.leaves.length;
  const out: BoundLeaf[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const input = leafInput(trees, grads, stateStorage, i, sums, finiteInPass);
    const bindings: LeafBinding[] = new Array(math.length);
    for (let m = 0; m < math.length; m++) {
      const b = math[m]!.bind(input);
      if (E.isLeft(b)) return b;
      bindings[m] = b.right;
    }
    input.bindings = bindings;
    out[i] = input;
  }
  return E.right(out);
};

/**
 * The runner of a step's bound leaves: the members' bodies as one generated loop over a leaf's values (looked up
 * once per dtype, not per leaf), u′ from `u` into `out` (`mode` "update"), or p′ = p + u′ into `out` ("apply").
 * Given anything but an array of members and a mode, a runner that writes NaN over `out`.
 * @example
 * const run = mathRunner(math, "update");
 * run(bound[i], denseValues(updates.leaves[i]), out);
 */
export const mathRunner = (math: readonly MemberMath[], mode: LoopMode): ((bound: BoundLeaf, u: FloatArray, out: FloatArray) => void) => {
  const bodies = bodiesOf(math);
  if (bodies === undefined || !(mode === "update" || mode === "apply" || mode === "block")) return refusedRunner;
  let f32: LeafLoop | undefined;
  let f64: LeafLoop | undefined;
  return ({ input, bindings }, u, out) => {
    const loop = input.dtype === "float32" ? (f32 ??= leafLoop(bodies, "float32", mode)) : (f64 ??= leafLoop(bodies, "float64", mode));
    loop(u, input.grads, input.params, out, bindings, 0, input.size);
  };
};

/** The members' bodies, or undefined when `math` is not an array of members. */
const bodiesOf = (math: readonly MemberMath[]): (MemberMath["body"])[] | undefined => {
  try {
    return Array.isArray(math) && math.every((m) => typeof m === "object" && m !== null) ? math.map((m) => m.body) : undefined;
  } catch {
    return undefined; // a revoked Proxy, a throwing getter
  }
};

/** What {@link mathRunner} gives for junk: NaN where the values would go, which every finiteness check refuses. */
const refusedRunner = (_bound: BoundLeaf, _u: FloatArray, out: FloatArray): void => {
  if (ArrayBuffer.isView(out)) out.fill(NaN);
};

/** Runs a kernel over a whole dense update array, block by block. */
const runBlocks = (kernel: BlockKernel, u: FloatArray): void => {
  const size = u.length;
  if (size <= BLOCK) kernel(u, 0, size);
  else for (let lo = 0; lo < size; lo += BLOCK) kernel(u.subarray(lo, Math.min(size, lo + BLOCK)), lo, Math.min(size, lo + BLOCK));
};

/**
 * Runs one step of a fusable transformation over every leaf: the new updates are fresh dense arrays,
 * the inputs are only read. A leaf that no kernel touches is passed through as the same (immutable) leaf.
 * Per leaf: u′[lo..hi) = k(u[lo..hi)) for lo = 0, BLOCK, 2·BLOCK, …, where k is the plan's kernel for the leaf.
 * @example
 * const lr = scaleByLr(0.1);
 * const step = pipe(lr.init(params), E.chain((s) => runFused(lr.fusable!, grads, s))); // as lr.update(grads, s)
 */
export const runFused = <S>(
  fusable: Fusable<S>,
  updates: Tree,
  state: S,
  params?: Tree,
  context?: UpdateContext,
): E.Either<OptimizerError, Step<S>> => {
  try {
    return runFusedOrThrow(fusable, updates, state, params, context);
  } catch (e) {
    return threw("runFused", e); // not a fusable (a plain-JavaScript caller's junk), or a plan that throws
  }
};

const runFusedOrThrow = <S>(
  fusable: Fusable<S>,
  updates: Tree,
  state: S,
  params?: Tree,
  context?: UpdateContext,
): E.Either<OptimizerError, Step<S>> =>
  withTrees(updates, params, context, (trees, grads) => {
    const plan = fusable.begin(state, trees);
    if (E.isLeft(plan)) return plan;
    const math = plan.right.math;
    if (math !== undefined) {
      const identity = math.every((m) => m.body === null);
      // the installed executor (the kernels' WebAssembly, core/executor.ts) first: the same bits, or undefined
      const done = identity ? undefined : compiledMath()?.update?.(math, trees, grads);
      if (done !== undefined)
        return E.map((leaves: Leaf[]) => [madeTree(trees.updates.def, leaves, trees.updates.paths), plan.right.finish()] as const)(done);
      const bound = bindLeaves(math, trees, grads, freshStorage);
      if (E.isLeft(bound)) return bound;
      const run = mathRunner(math, "update");
      const out = trees.updates.leaves.map((leaf, i) => {
        if (identity) return leaf;
        const u = allocate(dtypeOf(leaf), sizeOf(leaf.shape));
        run(bound.right[i]!, denseValues(leaf), u);
        return madeLeaf(u, shapeAt(trees, i));
      });
      // the identity passes the input leaves through (not necessarily frozen: unflatten asks); else all are made here
      const tree = (identity ? unflatten : madeTree)(trees.updates.def, out, trees.updates.paths);
      return E.right([tree, plan.right.finish()] as const);
    }
    const kernels = planLeaves(plan.right, trees, grads, freshStorage);
    if (E.isLeft(kernels)) return kernels;
    const out = trees.updates.leaves.map((leaf, i) => {
      const kernel = kernels.right[i]!;
      if (kernel === null) return leaf;
      const u = allocate(dtypeOf(leaf), sizeOf(leaf.shape));
      u.set(denseValues(leaf));
      runBlocks(kernel, u);
      return madeLeaf(u, shapeAt(trees, i));
    });
    return E.right([unflatten(trees.updates.def, out, trees.updates.paths), plan.right.finish()] as const);
  });

/**
 * Leaf i's shape for a new update leaf: the params' (checked equal to the updates'), which larch made when the
 * params came from a step, so the new leaf shares its frozen shape instead of freezing a copy of the caller's.
 */
const shapeAt = (trees: StepTrees, i: number): readonly number[] => (trees.params ?? trees.updates).leaves[i]!.shape;

/**
 * The kernels of several members applied in order to each block: (kₙ ∘ … ∘ k₁)(u[lo..hi)); nulls are skipped.
 * @example
 * composeKernels([scaleKernel(0.5), null, scaleKernel(-0.1)]) // u ← −0.1·(0.5·u), block by block
 * Anything but a function among them is skipped as null is; anything but an array composes to null.
 */
export const composeKernels = (kernels: readonly (BlockKernel | null)[]): BlockKernel | null => {
  let live: BlockKernel[];
  try {
    live = Array.isArray(kernels) ? kernels.filter((k): k is BlockKernel => typeof k === "function") : [];
  } catch {
    live = []; // a revoked Proxy
  }
  if (live.length === 0) return null;
  if (live.length === 1) return live[0]!;
  return (u, lo, hi) => {
    for (const k of live) k(u, lo, hi);
  };
};

/** The definition of an elementwise transformation: everything but `update`, which runs its plan. */
export interface ElementwiseDefinition<S> {
  readonly name: string;
  readonly hyperparams: { readonly [key: string]: HyperValue };
  /** The state before the first step. */
  init(params: Tree): E.Either<OptimizerError, S>;
  /** Checks the state and plans one step ({@link Fusable.begin}). */
  begin(state: S, trees: StepTrees): E.Either<OptimizerError, StepPlan<S>>;
}

/**
 * A transformation whose `update` runs its own plan through {@link runFused}, and which chains can fuse.
 * @example
 * // u ← c·u
 * const scaleBy = (c: number) => elementwise<{ kind: "scaleBy" }>({ name: "scaleBy", hyperparams: { c },
 *   init: () => E.right({ kind: "scaleBy" }),
 *   begin: (s) => E.right({ leaf: () => E.right((u, lo, hi) => { for (let j = 0; j < hi - lo; j++) u[j] = c * u[j]!; }), finish: () => s }) });
 */
export const elementwise = <S>(definition: ElementwiseDefinition<S>): GradientTransformation<S> => {
  const read = readDefinition(definition);
  if (E.isLeft(read)) return failing("elementwise", {}, read.left);
  const def = read.right as ElementwiseDefinition<S>;
  const fusable: Fusable<S> = { begin: (state, trees) => def.begin(state, trees) };
  return Object.freeze({
    name: def.name,
    hyperparams: def.hyperparams,
    init: def.init,
    update: (updates: Tree, state: S, params?: Tree, context?: UpdateContext) =>
      runFused(fusable, updates, state, params, context),
    fusable,
  });
};

/** The definition once its fields are checked, or an InvalidOption Left naming the bad one. */
const readDefinition = (def: unknown): E.Either<OptimizerError, ElementwiseDefinition<unknown>> => {
  try {
    if (typeof def !== "object" || def === null) return E.left(optimizerError("InvalidOption", `elementwise needs a definition { name, hyperparams, init, begin }, not ${showValue(def)}`));
    const { name, hyperparams, init, begin } = def as Record<string, unknown>;
    const bad =
      typeof name !== "string" ? ["name", name, "a string"] : typeof hyperparams !== "object" || hyperparams === null ? ["hyperparams", hyperparams, "a record"]
      : typeof init !== "function" ? ["init", init, "a function"] : typeof begin !== "function" ? ["begin", begin, "a function"] : undefined;
    if (bad !== undefined) return E.left(optimizerError("InvalidOption", `elementwise: its definition's ${bad[0]} is ${showValue(bad[1])}, not ${bad[2]}`));
    return E.right(def as ElementwiseDefinition<unknown>);
  } catch (e) {
    return threw("elementwise", e);
  }
};

/**
 * A transformation that fails with `error` on every call: what a constructor given invalid options returns.
 * @example
 * if (!(lr >= 0)) return failing("scaleByLr", { lr }, optimizerError("InvalidOption", `Invalid learning rate: ${lr}`));
 */
export const failing = <S = never>(
  name: string,
  hyperparams: { readonly [key: string]: HyperValue },
  error: OptimizerError,
): GradientTransformation<S> =>
  Object.freeze({ name, hyperparams, init: () => E.left(error), update: () => E.left(error) });

/**
 * Reads a state record of a given kind: Right(record) when `state` is a record tagged `kind`,
 * otherwise a StateMismatch saying what was found instead (a state of another transformation or optimizer).
 * @example
 * const s = stateOfKind<ScaleByLrState>(state, "scaleByLr"); // Left(StateMismatch) for an Adam state
 */
export const stateOfKind = <S extends { readonly kind: string }>(state: unknown, kind: S["kind"]): E.Either<OptimizerError, S> => {
  try {
    return stateOfKindOrThrow<S>(state, kind);
  } catch (e) {
    return E.left(optimizerError("StateMismatch", `${showValue(kind)} was given a state that cannot be read: reading it threw ${showValue(e)}`));
  }
};

const stateOfKindOrThrow = <S extends { readonly kind: string }>(state: unknown, kind: S["kind"]): E.Either<OptimizerError, S> => {
  if (isDonated(state)) return E.left(reusedError(`${kind} state`));
  if (typeof state === "object" && state !== null && (state as { kind?: unknown }).kind === kind) return E.right(state as S);
  const found =
    Array.isArray(state)
      ? `a chain state of ${state.length} members`
      : typeof state === "object" && state !== null && typeof (state as { kind?: unknown }).kind === "string"
        ? `a ${(state as { kind: string }).kind} state`
        : String(state === null ? "null" : typeof state);
  return E.left(optimizerError("StateMismatch", `${kind} was given ${found}, not its own state: a state of another optimizer?`));
};

/**
 * Right(count) when `count` is a step counter (a whole number ≥ 0), else a StateMismatch.
 * @example
 * checkCount("scaleByLr", 3) // Right(3); checkCount("scaleByLr", -1) and checkCount("scaleByLr", 2.5) are Lefts
 */
export const checkCount = (kind: string, count: unknown): E.Either<OptimizerError, number> =>
  Number.isSafeInteger(count) && (count as number) >= 0
    ? E.right(count as number)
    : E.left(optimizerError("StateMismatch", `${nameOf(kind)} state has an invalid step count: ${showValue(count)}`));

/** A transformation's name in a message: as it is when a string, else shown ({@link showValue}: never throws). */
const nameOf = (name: unknown): string => (typeof name === "string" ? name : showValue(name));

/**
 * A Left when the step needs params and none were given.
 * @example
 * const params = requireParams("addWeightDecay", trees); // in a plan's begin; Left(MissingParams) without params
 */
export const requireParams = (name: string, trees: StepTrees): E.Either<OptimizerError, Flat> => {
  try {
    if (typeof trees === "object" && trees !== null && trees.params) return E.right(trees.params);
  } catch (e) {
    return threw(nameOf(name), e, "MissingParams"); // a getter or a Proxy trap of trees
  }
  return E.left(optimizerError("MissingParams", `${nameOf(name)} needs the params: call update(updates, state, params)`));
};

/**
 * A fresh tree of zeros (every element 0) with the same structure, shapes and dtypes (for anything that is not a
 * {@link Flat}, an empty record, as {@link unflatten} gives).
 * @example
 * init: (params) => E.map((flat: Flat) => ({ kind: "traceMomentum", count: 0, trace: zerosLike(flat) }))(flatten(params))
 */
export const zerosLike = (flat: Flat): Tree => {
  try {
    return madeTree(
      flat.def,
      flat.leaves.map((leaf) => madeLeaf(freshStorage(leaf), leaf.shape)),
      flat.paths,
    );
  } catch {
    return Object.freeze({}); // not a Flat
  }
};

/**
 * Checks that a state's tree (a momentum trace, a moment estimate) has the updates' structure, shapes and dtypes.
 * @example
 * const trace = stateTreeMatching("traceMomentum", s.trace, trees.updates); // Left(StateMismatch) if made for another tree
 */
export const stateTreeMatching = (
  name: string,
  tree: unknown,
  updates: Flat,
): E.Either<OptimizerError, Flat> => {
  try {
    return stateTreeMatchingOrThrow(nameOf(name), tree, updates);
  } catch (e) {
    return threw(nameOf(name), e, "StateMismatch"); // updates that are not a Flat
  }
};

const stateTreeMatchingOrThrow = (name: string, tree: unknown, updates: Flat): E.Either<OptimizerError, Flat> => {
  const flat = flatten(tree);
  if (E.isLeft(flat))
    return E.left(optimizerError("StateMismatch", `${name} state: ${flat.left.message}`, flat.left.path !== undefined ? { path: flat.left.path } : {}));
  const same = sameTreeType(updates, flat.right, ["updates", `${name} state`]);
  if (E.isLeft(same))
    return E.left(
      optimizerError("StateMismatch", `${same.left.message} (a state made for another tree?)`, same.left.path !== undefined ? { path: same.left.path } : {}),
    );
  return flat;
};
