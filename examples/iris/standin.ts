/**
 * STAND-IN — DELETE AT MERGE. A minimal private copy of the slice of larch's core API that the example uses
 * (`lars`, `partition`, `polynomialDecay`, `applyUpdates`), so that the example runs before the real core lands.
 * At merge, replace `from "./standin.js"` with `from "larch"` in train.ts/main.ts and delete this file and
 * standin-recording.ts. The LARS update follows Holocron's (the seed):
 *
 *   d = g + wd·p,   γ = ‖p‖ / (‖g‖ + wd·‖p‖)  (1 when either norm is 0),   m ← μ·m + d  (m₀ = 0),   u = −lr·γ·m
 * @module
 */
import ndarray, { type NdArray } from "ndarray";
import * as E from "fp-ts/lib/Either.js";

export type Leaf = NdArray<Float32Array> | NdArray<Float64Array>;
export type Tree = Leaf | readonly Tree[] | { readonly [key: string]: Tree };
export type LabelTree = string | readonly LabelTree[] | { readonly [key: string]: LabelTree };
export interface OptimizerError {
  readonly kind: string;
  readonly message: string;
  readonly path?: string;
  readonly step?: number;
}
export type Schedule = (count: number) => number;
export interface GradientTransformation<S> {
  readonly name: string;
  readonly hyperparams: Readonly<Record<string, unknown>>;
  init(params: Tree): E.Either<OptimizerError, S>;
  update(updates: Tree, state: S, params?: Tree): E.Either<OptimizerError, readonly [Tree, S]>;
}

const isLeaf = (t: unknown): t is Leaf =>
  typeof t === "object" && t !== null && "data" in t && "shape" in t && "stride" in t;

/** Leaves in depth-first order, record keys sorted, with their paths (`fc1.weight`, `layers[0].w`). */
export const leavesWithPaths = (tree: Tree, prefix = ""): [string, Leaf][] => {
  if (isLeaf(tree)) return [[prefix, tree]];
  if (Array.isArray(tree)) return (tree as readonly Tree[]).flatMap((t, i) => leavesWithPaths(t, `${prefix}[${i}]`));
  const rec = tree as { readonly [key: string]: Tree };
  return Object.keys(rec)
    .sort()
    .flatMap((k) => leavesWithPaths(rec[k] as Tree, prefix === "" ? k : `${prefix}.${k}`));
};

/** Rebuilds `tree`'s structure with the leaf at each path replaced by `leafAt(path, leaf)`. */
const rebuild = (tree: Tree, leafAt: (path: string, leaf: Leaf) => Leaf, prefix = ""): Tree => {
  if (isLeaf(tree)) return leafAt(prefix, tree);
  if (Array.isArray(tree)) return (tree as readonly Tree[]).map((t, i) => rebuild(t, leafAt, `${prefix}[${i}]`));
  const rec = tree as { readonly [key: string]: Tree };
  return Object.fromEntries(
    Object.keys(rec).map((k) => [k, rebuild(rec[k] as Tree, leafAt, prefix === "" ? k : `${prefix}.${k}`)]),
  );
};

const valuesOf = (leaf: Leaf): Float64Array => {
  const flat = new Float64Array(leaf.size);
  let i = 0;
  const walk = (dim: number, index: number[]) => {
    if (dim === leaf.shape.length) {
      flat[i++] = leaf.get(...index);
      return;
    }
    for (let k = 0; k < (leaf.shape[dim] as number); k++) walk(dim + 1, [...index, k]);
  };
  walk(0, []);
  return flat;
};

const leafLike = (leaf: Leaf, values: Float64Array): Leaf =>
  leaf.data instanceof Float32Array
    ? ndarray(Float32Array.from(values), leaf.shape.slice())
    : ndarray(Float64Array.from(values), leaf.shape.slice());

/** ‖x‖₂ with four interleaved float64 accumulators, as the core's convention. */
export const norm = (leaf: Leaf): number => {
  const v = valuesOf(leaf);
  const s = [0, 0, 0, 0];
  for (let i = 0; i < v.length; i++) s[i & 3] = (s[i & 3] as number) + (v[i] as number) * (v[i] as number);
  return Math.sqrt(((s[0] as number) + (s[1] as number)) + ((s[2] as number) + (s[3] as number)));
};

/** The state of the stand-in LARS: step count and one momentum buffer per leaf path. */
export interface LarsState {
  readonly kind: "lars";
  readonly count: number;
  readonly trace: Readonly<Record<string, Leaf>>;
}

/** Stand-in `lars({ lr, momentum, weightDecay })`, equations in the module comment. */
export const lars = (options: {
  readonly lr: number | Schedule;
  readonly momentum: number;
  readonly weightDecay: number;
}): GradientTransformation<LarsState> => {
  const lrAt = typeof options.lr === "number" ? () => options.lr as number : options.lr;
  const { momentum: mu, weightDecay: wd } = options;
  return {
    name: "lars",
    hyperparams: { lr: typeof options.lr === "number" ? options.lr : "schedule", momentum: mu, weightDecay: wd },
    init: (params) =>
      E.right({
        kind: "lars",
        count: 0,
        trace: Object.fromEntries(leavesWithPaths(params).map(([p, l]) => [p, leafLike(l, new Float64Array(l.size))])),
      }),
    update: (grads, state, params) => {
      if (params === undefined) return E.left({ kind: "MissingParams", message: "lars needs the params" });
      const ps = new Map(leavesWithPaths(params));
      const lr = lrAt(state.count);
      const trace: Record<string, Leaf> = {};
      let failure: OptimizerError | undefined;
      const updates = rebuild(grads, (path, g) => {
        const p = ps.get(path);
        const m0 = state.trace[path];
        if (p === undefined || m0 === undefined || p.size !== g.size) {
          failure ??= { kind: "StructureMismatch", message: `no param or momentum for ${path}`, path };
          return g;
        }
        const pNorm = norm(p);
        const denom = norm(g) + wd * pNorm; // ‖g‖ + wd·‖p‖
        const gamma = pNorm === 0 || denom === 0 ? 1 : pNorm / denom; // γ
        const pv = valuesOf(p);
        const gv = valuesOf(g);
        const mv = valuesOf(m0);
        const u = new Float64Array(g.size);
        for (let i = 0; i < u.length; i++) {
          const d = (gv[i] as number) + wd * (pv[i] as number); // d = g + wd·p
          mv[i] = mu * (mv[i] as number) + d; // m ← μ·m + d
        }
        const m = leafLike(m0, mv); // rounded to the leaf's dtype
        trace[path] = m;
        const stored = valuesOf(m);
        for (let i = 0; i < u.length; i++) u[i] = -lr * gamma * (stored[i] as number); // u = −lr·γ·m
        return leafLike(g, u);
      });
      if (failure !== undefined) return E.left(failure);
      return E.right([updates, { kind: "lars", count: state.count + 1, trace }] as const);
    },
  };
};

/** The label at each leaf path of a label tree (same walk as {@link leavesWithPaths}). */
const labelsWithPaths = (labels: LabelTree, prefix = ""): [string, string][] => {
  if (typeof labels === "string") return [[prefix, labels]];
  if (Array.isArray(labels))
    return (labels as readonly LabelTree[]).flatMap((t, i) => labelsWithPaths(t, `${prefix}[${i}]`));
  const rec = labels as { readonly [key: string]: LabelTree };
  return Object.keys(rec)
    .sort()
    .flatMap((k) => labelsWithPaths(rec[k] as LabelTree, prefix === "" ? k : `${prefix}.${k}`));
};

/** The state of the stand-in partition: one inner state per label. */
export interface PartitionState {
  readonly kind: "partition";
  readonly inner: Readonly<Record<string, unknown>>;
}

/**
 * Stand-in `partition(transforms, labels)`: each leaf is updated by the transformation named by its label;
 * each transformation sees a flat record (path → leaf) of its own leaves.
 */
export const partition = (
  transforms: Readonly<Record<string, GradientTransformation<any>>>,
  labels: LabelTree,
): GradientTransformation<PartitionState> => {
  const labelOf = new Map(labelsWithPaths(labels));
  const subset = (tree: Tree, label: string): Tree =>
    Object.fromEntries(leavesWithPaths(tree).filter(([path]) => labelOf.get(path) === label));
  const names = Object.keys(transforms).sort();
  return {
    name: "partition",
    hyperparams: Object.fromEntries(names.map((n) => [n, transforms[n]?.hyperparams ?? {}])),
    init: (params) => {
      const missing = leavesWithPaths(params).find(([path]) => !names.includes(labelOf.get(path) ?? ""));
      if (missing) return E.left({ kind: "StructureMismatch", message: `no label for ${missing[0]}`, path: missing[0] });
      const inner: Record<string, unknown> = {};
      for (const n of names) {
        const s = (transforms[n] as GradientTransformation<unknown>).init(subset(params, n));
        if (E.isLeft(s)) return s;
        inner[n] = s.right;
      }
      return E.right({ kind: "partition", inner });
    },
    update: (grads, state, params) => {
      const out = new Map<string, Leaf>();
      const inner: Record<string, unknown> = {};
      for (const n of names) {
        const r = (transforms[n] as GradientTransformation<unknown>).update(
          subset(grads, n),
          state.inner[n],
          params === undefined ? undefined : subset(params, n),
        );
        if (E.isLeft(r)) return r;
        for (const [path, leaf] of leavesWithPaths(r.right[0])) out.set(path, leaf);
        inner[n] = r.right[1];
      }
      return E.right([rebuild(grads, (path, g) => out.get(path) ?? g), { kind: "partition", inner }] as const);
    },
  };
};

/**
 * Stand-in `polynomialDecay({ init, power, totalSteps, end })`:
 * lr(t) = (init − end)·(1 − min(t, T)/T)^power + end.
 */
export const polynomialDecay =
  (o: { readonly init: number; readonly power: number; readonly totalSteps: number; readonly end?: number }): Schedule =>
  (t) => {
    const end = o.end ?? 0;
    const frac = 1 - Math.min(Math.max(t, 0), o.totalSteps) / o.totalSteps;
    return (o.init - end) * frac ** o.power + end;
  };

/** Stand-in `applyUpdates(params, updates)`: p + u per leaf, rounded to the leaf's dtype. */
export const applyUpdates = (params: Tree, updates: Tree): E.Either<OptimizerError, Tree> => {
  const us = new Map(leavesWithPaths(updates));
  let failure: OptimizerError | undefined;
  const out = rebuild(params, (path, p) => {
    const u = us.get(path);
    if (u === undefined || u.size !== p.size) {
      failure ??= { kind: "StructureMismatch", message: `no update for ${path}`, path };
      return p;
    }
    const pv = valuesOf(p);
    const uv = valuesOf(u);
    return leafLike(p, pv.map((x, i) => x + (uv[i] as number)));
  });
  return failure === undefined ? E.right(out) : E.left(failure);
};
