/** Real optimizer runs for the time-travel tests: trees of 0-d to 4-d leaves, LARS chains and partitions, seeded gradients. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import {
  applyUpdates,
  flatten,
  labelByPath,
  lars,
  mapTrees,
  partition,
  polynomialDecay,
  denseValues,
  dtypeOf,
  leafOf,
  allocate,
  type Dtype,
  type GradientTransformation,
  type Leaf,
  type Tree,
} from "larch";

/** A leaf of a dtype and shape whose values follow from a seed. */
const seededLeaf = (dtype: Dtype, shape: number[], seed: number): Leaf => {
  const size = shape.reduce((n, d) => n * d, 1);
  const data = dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(seed * 12.9898 + i * 78.233) * 0.5;
  return ndarray(data, shape) as Leaf;
};

/** A nested tree with leaves of rank 0 to 4 (records and an array), all of one dtype. */
export const realParams = (dtype: Dtype): Tree => ({
  scale: seededLeaf(dtype, [], 1),
  fc: { weight: seededLeaf(dtype, [3, 4], 2), bias: seededLeaf(dtype, [3], 3) },
  conv: [{ kernel: seededLeaf(dtype, [2, 2, 3, 3], 4) }, { kernel: seededLeaf(dtype, [2, 3, 2], 5), bias: seededLeaf(dtype, [2], 6) }],
});

/**
 * The gradient at step t: g = sin(3p + t)·(1 + 0.1·i mod 7), computed in float64 and stored once in the leaf's
 * dtype — a deterministic stand-in for a loss's gradient that depends on the params, as a real one does.
 */
export const gradAt = (params: Tree, t: number): Tree =>
  E.getOrElseW(() => {
    throw new Error("bad tree");
  })(
    mapTrees([params], ["params"], ([p]) => {
      const v = denseValues(p!);
      const out = allocate(dtypeOf(p!), v.length);
      for (let i = 0; i < v.length; i++) out[i] = Math.sin(3 * v[i]! + t) * (1 + 0.1 * (i % 7));
      return E.right(leafOf(out, p!.shape));
    }),
  );

/** The gradient of {@link gradAt}, with a NaN in every leaf at the steps listed. */
export const nanAt =
  (...bad: number[]) =>
  (params: Tree, t: number): Tree => {
    const g = gradAt(params, t);
    if (!bad.includes(t)) return g;
    return E.getOrElseW(() => g)(
      mapTrees([g], ["grads"], ([leaf]) => {
        const out = allocate(dtypeOf(leaf!), denseValues(leaf!).length);
        out.set(denseValues(leaf!));
        out[0] = NaN;
        return E.right(leafOf(out, leaf!.shape));
      }),
    );
  };

/** LARS as one chain. */
export const larsChain = (lr = 0.1, momentum = 0.9): GradientTransformation<any> => lars({ lr, momentum, weightDecay: 1e-3 });

/** Two LARS (weight decay on weights, none on biases) following one polynomial decay, as a partition. */
export const larsPartition = (lr = 0.2, momentum = 0.9): GradientTransformation<any> => {
  const schedule = polynomialDecay({ init: lr, power: 2, totalSteps: 30 });
  return partition(
    { decay: lars({ lr: schedule, momentum, weightDecay: 5e-4 }), noDecay: lars({ lr: schedule, momentum }) },
    (params) => labelByPath(params, (path) => (path.endsWith("bias") || path === "scale" ? "noDecay" : "decay")),
  );
};

/** Every { params, state } of an uninterrupted run of n steps (n + 1 points, the first is the start). */
export const runPoints = (opt: GradientTransformation<any>, params0: Tree, n: number, from = 0, state0?: unknown): { params: Tree; state: unknown }[] => {
  const init = state0 === undefined ? opt.init(params0) : E.right(state0);
  if (E.isLeft(init)) throw new Error(init.left.message);
  const points = [{ params: params0, state: init.right }];
  for (let t = from; t < from + n; t++) {
    const { params, state } = points[points.length - 1]!;
    const step = opt.update(gradAt(params, t), state, params);
    if (E.isLeft(step)) throw new Error(step.left.message);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(next.left.message);
    points.push({ params: next.right, state: step.right[1] });
  }
  return points;
};

/** Leaf count of a tree (for assertions on recorded headers). */
export const leafCount = (tree: Tree): number => E.match(() => -1, (f: { leaves: readonly Leaf[] }) => f.leaves.length)(flatten(tree));
