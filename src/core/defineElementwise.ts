/**
 * An elementwise transformation declared as data: its state (a tag, a step count, state arrays of the params'
 * shapes, numbers it records) and its per-element math in the expression form. The core does what every such
 * transformation needs (the state's checks, the params when the math reads them, the new state's records, fresh
 * or donated storage) once for all of them, and runs the math through generated code, fused with the rest of a chain.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { leafLoop } from "./compileJs.js";
import { checkCount, failing, requireParams, runFused, stateOfKind, stateTreeMatching, zerosLike } from "./elementwise.js";
import { optimizerError, type OptimizerError } from "./errors.js";
import { aFunction, aRecord, readOptions, refusingThrows, required } from "./options.js";
import { parseBody, type Body, type BodySource } from "./expression.js";
import { copyLeaf, denseValues, type FloatArray, type Leaf } from "./leaf.js";
import { madeLeaf } from "./views.js";
import { madeTree } from "./treeBuild.js";
import type { Fusable, GradientTransformation, HyperRecord, LeafBinding, LeafInput, MemberMath, StepPlan, StepTrees, UpdateContext } from "./transform.js";
import { flatten, frozenScalars, unflatten, type Flat, type Tree } from "./tree.js";

/** The state a transformation keeps, declared: the record is `{ kind, count?, …trees, …values, …perLeaf }` in that order. */
export interface StateDeclaration {
  readonly kind: string;
  /** a step count t: 0 at init, t + 1 after each step, checked to be a whole number ≥ 0 */
  readonly count?: boolean;
  /**
   * state arrays of the params' structure, shapes and dtypes, zeros at init, or a copy of the params with "params"
   * (schedule-free's z); false: the field is null, no array kept
   */
  readonly trees?: { readonly [name: string]: boolean | "params" };
  /** numbers the state records after each step (a learning rate used), with their values at init */
  readonly values?: { readonly [name: string]: number };
  /** per-leaf records (a ratio γ of each leaf): field → the leaf scalar it records; NaN for every leaf at init */
  readonly perLeaf?: { readonly [field: string]: string };
  /** the step reads the params besides what its bodies read (a norm of p): without params it is a MissingParams Left */
  readonly params?: boolean;
}

/** One step's math, as the declaration's `step` gives it. */
export interface StepMath {
  /** the key of the body this step runs, or null for u′ = u (the state arrays unchanged) */
  readonly body: string | null;
  /** the scalars the body reads that are the same for every leaf */
  readonly scalars?: { readonly [name: string]: number };
  /** the scalars of one leaf (its norms, its ratio), or a Left (a non-finite norm) before anything is written */
  readonly leaf?: (input: LeafInput) => E.Either<OptimizerError, { readonly [name: string]: number }>;
  /** the numbers the new state records (see {@link StateDeclaration.values}) */
  readonly values?: { readonly [name: string]: number };
}

/** An elementwise transformation declared: its name, hyper-parameters, state, bodies and, per step, which body and scalars. */
export interface ElementwiseDeclaration {
  readonly name: string;
  readonly hyperparams: HyperRecord;
  readonly state: StateDeclaration;
  /** the bodies by key: each assigns the state arrays (those declared true, in order), then u (see {@link parseBody}) */
  readonly bodies: { readonly [key: string]: BodySource };
  /**
   * step t (the count before this step; 0 without a count): which body, its scalars; a Left refuses the step.
   * `state` is the state record handed in (its kind and count checked), for the numbers it records (`values`),
   * which a step may read (a running maximum) and must check itself.
   */
  step(t: number, state: { readonly [field: string]: unknown }): E.Either<OptimizerError, StepMath>;
}

type Record_ = { readonly kind: string; readonly [field: string]: unknown };

const kept = (decl: StateDeclaration) => Object.entries(decl.trees ?? {}).filter(([, on]) => on).map(([name]) => name);

/** The record of a state that is nothing but its tag, one per kind (as a constant would be: it holds nothing to donate). */
const tagged = new Map<string, Record_>();

const initState = (decl: StateDeclaration, params: Tree): E.Either<OptimizerError, Record_> => {
  const fields: { [field: string]: unknown } = { kind: decl.kind };
  if (!decl.count && decl.trees === undefined && decl.values === undefined && decl.perLeaf === undefined) {
    const record = tagged.get(decl.kind) ?? (Object.freeze(fields) as Record_);
    tagged.set(decl.kind, record);
    return E.right(record);
  }
  if (decl.count) fields["count"] = 0;
  const needsTree = decl.trees !== undefined || decl.perLeaf !== undefined;
  const flat = needsTree ? flatten(params) : undefined;
  if (flat !== undefined && E.isLeft(flat)) return flat;
  for (const [name, on] of Object.entries(decl.trees ?? {}))
    fields[name] = on === "params" ? unflatten(flat!.right.def, flat!.right.leaves.map(copyLeaf), flat!.right.paths) : on ? zerosLike(flat!.right) : null;
  Object.assign(fields, decl.values);
  for (const field of Object.keys(decl.perLeaf ?? {})) fields[field] = frozenScalars(flat!.right.paths, flat!.right.paths.map(() => NaN));
  return E.right(Object.freeze(fields) as Record_);
};

/** The slot values of a body's scalars from the step's and the leaf's, or the name of one neither gives. */
const slots = (body: Body, step: { readonly [name: string]: number }, leaf?: { readonly [name: string]: number }): number[] | string => {
  const out: number[] = [];
  for (const name of body.scalars) {
    const v = leaf?.[name] ?? step[name];
    if (typeof v !== "number") return name;
    out.push(v);
  }
  return out;
};

/** The state arrays of a binding that has none. */
const NO_ARRAYS: readonly FloatArray[] = Object.freeze([]);

/**
 * A leaf's binding that is its own Right (`E.isRight` reads its tag, `.right` is itself): one object a leaf and
 * member where `E.right({ scalars, arrays })` made two, 1000 of them a step on a 1000-leaf tree.
 */
class Bound implements LeafBinding {
  readonly _tag = "Right" as const;
  readonly right: LeafBinding = this;
  constructor(
    readonly scalars: readonly number[],
    readonly arrays: readonly FloatArray[],
  ) {}
}

/** Plans one step of a declared transformation: the state's checks, then per leaf its binding, then the new state. */
const begin = (
  decl: ElementwiseDeclaration,
  bodies: { readonly [key: string]: Body },
  state: unknown,
  trees: StepTrees,
): E.Either<OptimizerError, StepPlan<Record_>> => {
  const { name } = decl;
  const s = stateOfKind<Record_>(state, decl.state.kind);
  if (E.isLeft(s)) return s;
  let t = 0;
  if (decl.state.count) {
    const count = checkCount(name, s.right["count"]);
    if (E.isLeft(count)) return count;
    t = count.right;
  }
  const arrays: Flat[] = [];
  for (const tree of kept(decl.state)) {
    const flat = stateTreeMatching(name, s.right[tree], trees.updates);
    if (E.isLeft(flat)) return flat;
    arrays.push(flat.right);
  }
  if (decl.state.params || Object.values(bodies).some((b) => b.readsParams)) {
    const params = requireParams(name, trees);
    if (E.isLeft(params)) return params;
  }
  const math = decl.step(t, s.right);
  if (E.isLeft(math)) return math;
  const { body: key, scalars = {}, leaf, values } = math.right;
  const body = key === null ? null : bodies[key];
  if (body === undefined) return E.left(optimizerError("InvalidOption", `${name}: no body ${String(key)}`));
  const stepSlots = body === null || leaf !== undefined ? [] : slots(body, scalars);
  if (typeof stepSlots === "string") return E.left(optimizerError("InvalidOption", `${name}: the step gives no value for ${stepSlots}`));
  const newLeaves: Leaf[][] = arrays.map(() => new Array(trees.updates.leaves.length));
  const perLeaf: { [field: string]: number[] } = Object.fromEntries(Object.keys(decl.state.perLeaf ?? {}).map((f) => [f, []]));
  const perLeafScalars = Object.entries(decl.state.perLeaf ?? {});
  // a member with nothing of its own per leaf (no leaf scalars, no state arrays) binds every leaf to one record
  const shared: E.Either<OptimizerError, LeafBinding> | undefined =
    leaf === undefined && (body === null || arrays.length === 0) ? E.right(Object.freeze({ scalars: stepSlots, arrays: NO_ARRAYS })) : undefined;
  const bind = (input: LeafInput): E.Either<OptimizerError, LeafBinding> => {
    if (shared !== undefined) return shared;
    let scalarSlots = stepSlots;
    if (leaf !== undefined) {
      const own = leaf(input);
      if (E.isLeft(own)) return own;
      for (const [field, scalar] of perLeafScalars) perLeaf[field]![input.index] = own.right[scalar]!;
      if (body !== null) {
        const all = slots(body, scalars, own.right);
        if (typeof all === "string") return E.left(optimizerError("InvalidOption", `${name}: the step gives no value for ${all}`));
        scalarSlots = all;
      }
    }
    if (body === null) return new Bound(scalarSlots, NO_ARRAYS);
    const storage: FloatArray[] = new Array(2 * arrays.length);
    for (let k = 0; k < arrays.length; k++) {
      const old = arrays[k]!.leaves[input.index]!;
      const next = input.stateStorage(old);
      newLeaves[k]![input.index] = madeLeaf(next, old.shape, old); // the old leaf's frozen shape, shared
      storage[2 * k] = denseValues(old);
      storage[2 * k + 1] = next;
    }
    return new Bound(scalarSlots, storage);
  };
  const finish = (): Record_ => {
    const fields: { [field: string]: unknown } = { kind: decl.state.kind };
    if (decl.state.count) fields["count"] = t + 1;
    let k = 0;
    for (const [tree, on] of Object.entries(decl.state.trees ?? {}))
      fields[tree] = !on ? null : body === null ? s.right[tree] : madeTree(trees.updates.def, newLeaves[k++]!, trees.updates.paths);
    for (const field of Object.keys(decl.state.values ?? {})) fields[field] = values?.[field] ?? s.right[field];
    for (const field of Object.keys(perLeaf)) fields[field] = frozenScalars(trees.updates.paths, perLeaf[field]!);
    return Object.keys(fields).length === 1 ? s.right : (Object.freeze(fields) as Record_);
  };
  const member: MemberMath = { body, bind };
  return E.right({
    math: [member],
    leaf: (input) => {
      const binding = bind(input);
      if (E.isLeft(binding)) return binding;
      if (body === null) return E.right(null);
      const loop = leafLoop([body], input.dtype, "block");
      const bindings = [binding.right];
      return E.right((u, lo, hi) => loop(u, input.grads, input.params, u, bindings, lo, hi));
    },
    finish,
  });
};

/**
 * A transformation from its declaration: `init` builds the declared state, `update` checks it (its tag, its count,
 * each state array against the updates' tree, the params when needed), asks `step` for the step's body and scalars,
 * and runs the body over every leaf, fused with the rest of a chain (one generated loop per leaf). A body that does
 * not parse, or a declaration missing a part or with one of the wrong type, gives a transformation whose init and
 * update return that InvalidOption Left.
 * @example
 * // b ← m·b + u, u′ = b (heavy-ball momentum without dampening)
 * const heavyBall = (m: number) => defineElementwise({
 *   name: "heavyBall", hyperparams: { m },
 *   state: { kind: "heavyBall", count: true, trees: { trace: true } },
 *   bodies: { step: { trace: "m * trace + u", u: "trace'" } },
 *   step: () => E.right({ body: "step", scalars: { m } }),
 * });
 */
export const defineElementwise = <S>(declaration: ElementwiseDeclaration): GradientTransformation<S> =>
  refusingThrows("defineElementwise", () => {
    const read = readOptions("defineElementwise", declaration, {
      name: required({ is: "a string", accepts: (x): x is string => typeof x === "string" }),
      hyperparams: required(aRecord),
      state: required(aRecord),
      bodies: required(aRecord),
      step: required(aFunction),
    });
    if (E.isLeft(read)) return failing<S>("defineElementwise", {}, read.left);
    const kind = (read.right.state as { kind?: unknown }).kind;
    if (typeof kind !== "string")
      return failing<S>(read.right.name, {}, optimizerError("InvalidOption", `${read.right.name}: its state declaration needs a kind (a string)`));
    return defined<S>(declaration);
  });

const defined = <S>(decl: ElementwiseDeclaration): GradientTransformation<S> => {
  const bodies: { [key: string]: Body } = {};
  for (const [key, source] of Object.entries(decl.bodies)) {
    const body = parseBody(decl.name, kept(decl.state), source);
    if (E.isLeft(body)) return failing(decl.name, decl.hyperparams, body.left);
    bodies[key] = body.right;
  }
  const fusable: Fusable<S> = { begin: (state, trees) => begin(decl, bodies, state, trees) as unknown as E.Either<OptimizerError, StepPlan<S>> };
  return Object.freeze({
    name: decl.name,
    hyperparams: decl.hyperparams,
    init: (params: Tree) => initState(decl.state, params) as unknown as E.Either<OptimizerError, S>,
    update: (updates: Tree, state: S, params?: Tree, context?: UpdateContext) => runFused(fusable, updates, state, params, context),
    fusable,
  });
};
