/**
 * Adaptive gradient clipping, unit by unit (Brock et al. 2021, NFNets; optax's `adaptive_grad_clip`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { failing, stateOfKind } from "../core/elementwise.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import { allocate, denseValues, dtypeOf, leafOf, sizeOf, type Leaf } from "../core/leaf.js";
import { aNumber, optional, readOptions, required } from "../core/options.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, flattenLike, unflatten, type Tree } from "../core/tree.js";

/** Options of {@link adaptiveGradClip}. */
export interface AdaptiveGradClipOptions {
  /** λ: the largest ratio ‖g‖ / max(‖p‖, ε) a unit keeps (required; finite, ≥ 0). */
  readonly clipping: number;
  /** ε: the floor of ‖p‖, so zero-initialised units still move (default 1e-3). */
  readonly eps?: number;
  /**
   * The axis of the output units (default 0: PyTorch's layouts, conv OIHW and linear [out, in]); −1 for optax's and
   * Flax's HWIO / [in, out] layouts. Negative values count from the end. Each unit's norm is over every other axis.
   */
  readonly axis?: number;
}

/** State of {@link adaptiveGradClip}: nothing but its tag. */
export interface AdaptiveGradClipState {
  readonly kind: "adaptiveGradClip";
}

/** The units of a leaf: how many, and which one each element (by its row-major index) belongs to. */
export interface ClipUnits {
  readonly count: number;
  /** the unit of the element at row-major index i */
  readonly of: (i: number) => number;
}

/**
 * The unit of each element of a leaf of this shape, and the number of units: one unit for a leaf with at most one
 * extent above 1 (a bias, a scalar, a 1×n matrix: optax's "squeezed vectors"), otherwise one per index along `axis`.
 * A Left names the leaf when `axis` is not one of its axes.
 * @example
 * unitsOf([8, 3, 3, 3], 0, "conv.weight") // Right({ count: 8, of: (i) => Math.floor(i / 27) })
 */
export const unitsOf = (
  shape: readonly number[],
  axis: number,
  path: string,
): E.Either<OptimizerError, ClipUnits> => {
  try {
    if (!(Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)) || typeof axis !== "number")
      return E.left(optimizerError("InvalidOption", `adaptiveGradClip: ${showValue(shape)} is not a shape or ${showValue(axis)} not an axis`));
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `adaptiveGradClip: reading the shape threw ${showValue(e)}`));
  }
  if (shape.filter((d) => d > 1).length <= 1) return E.right({ count: 1, of: () => 0 });
  const a = axis < 0 ? axis + shape.length : axis;
  if (!(Number.isSafeInteger(a) && a >= 0 && a < shape.length))
    return E.left(optimizerError("InvalidOption", `adaptiveGradClip: axis ${showValue(axis)} is not an axis of ${showPath(String(path))} (shape [${shape.join(", ")}])`, { path: String(path) }));
  const inner = sizeOf(shape.slice(a + 1));
  const extent = shape[a]!;
  return E.right({ count: extent, of: (i) => Math.floor(i / inner) % extent });
};

/** The L2 norm of each unit of x, accumulated in float64. */
const unitNorms = (x: ArrayLike<number>, count: number, of: (i: number) => number): Float64Array => {
  const out = new Float64Array(count);
  for (let i = 0; i < x.length; i++) out[of(i)]! += x[i]! * x[i]!;
  for (let k = 0; k < count; k++) out[k] = Math.sqrt(out[k]!);
  return out;
};

/**
 * Unit-wise clipping of the updates against the params (optax's `adaptive_grad_clip`): for each unit (an output
 * neuron or filter: a slice along `axis`, see {@link unitsOf}) with update norm ‖g‖ and param norm ‖p‖ over the
 * unit's other axes,
 *
 *   m = λ·max(‖p‖, ε),   g′ = g where ‖g‖ < m,   g′ = g·m / max(‖g‖, 10⁻⁶) otherwise
 *
 * so no unit's update exceeds λ times its weights' norm. optax infers the units from the rank for its HWIO / [in, out]
 * layouts (norms over every axis but the last for 2-, 4- and 5-D leaves; over axis 0 only for 3-D ones); larch takes
 * the unit axis as an option, the first by default (PyTorch's OIHW / [out, in]; `axis: -1` is optax's rule for 2-, 4-
 * and 5-D leaves), and a unit's norm is always over every other axis. Norms are in float64; each g′ is stored once in the leaf's dtype. It reads a whole unit before it writes, so
 * it is not fusable. Needs the params; λ and ε must be finite and ≥ 0, `axis` a whole number. NaN in g gives NaN.
 * @example
 * const opt = chain(adaptiveGradClip({ clipping: 0.01 }), sgd({ lr: 0.1, momentum: 0.9 })); // NFNets' λ for batch 4096
 */
export const adaptiveGradClip = (o: AdaptiveGradClipOptions): GradientTransformation<AdaptiveGradClipState> => {
  const name = "adaptiveGradClip";
  const read = readOptions(name, o, { clipping: required(aNumber), eps: optional(aNumber, 1e-3), axis: optional(aNumber, 0) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { clipping, eps, axis } = read.right;
  const hyperparams = { clipping, eps, axis };
  const refuse = (why: string) => failing<AdaptiveGradClipState>(name, hyperparams, optimizerError("InvalidOption", `${name}: ${why}`));
  if (!(Number.isFinite(clipping) && clipping >= 0)) return refuse(`Invalid clipping: ${showValue(clipping)} (must be finite and >= 0)`);
  if (!(Number.isFinite(eps) && eps >= 0)) return refuse(`Invalid eps: ${showValue(eps)} (must be finite and >= 0)`);
  if (!Number.isSafeInteger(axis)) return refuse(`Invalid axis: ${showValue(axis)} (must be a whole number)`);
  const state: AdaptiveGradClipState = Object.freeze({ kind: name });

  const clipLeaf = (g: Leaf, p: Leaf, path: string): E.Either<OptimizerError, Leaf> => {
    const units = unitsOf(g.shape, axis, path);
    if (E.isLeft(units)) return units;
    const { count, of } = units.right;
    const gv = denseValues(g);
    const gNorm = unitNorms(gv, count, of);
    const pNorm = unitNorms(denseValues(p), count, of);
    const factor = new Float64Array(count);
    let clipped = false;
    for (let k = 0; k < count; k++) {
      const max = clipping * Math.max(pNorm[k]!, eps); // m = λ·max(‖p‖, ε)
      factor[k] = gNorm[k]! < max ? 1 : max / Math.max(gNorm[k]!, 1e-6);
      if (factor[k] !== 1) clipped = true;
    }
    if (!clipped) return E.right(g);
    const out = allocate(dtypeOf(g), gv.length);
    for (let i = 0; i < gv.length; i++) out[i] = gv[i]! * factor[of(i)]!; // g′ = g·m / max(‖g‖, 10⁻⁶)
    return E.right(leafOf(out, g.shape));
  };

  const step = (updates: Tree, s: AdaptiveGradClipState, params?: Tree): E.Either<OptimizerError, Step<AdaptiveGradClipState>> => {
    const checked = stateOfKind<AdaptiveGradClipState>(s, name);
    if (E.isLeft(checked)) return checked;
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    if (params === undefined) return E.left(optimizerError("MissingParams", `${name} needs the params: call update(updates, state, params)`));
    const p = flattenLike(u.right, params, ["updates", "params"]);
    if (E.isLeft(p)) return p;
    const out: Leaf[] = [];
    for (let k = 0; k < u.right.leaves.length; k++) {
      const leaf = clipLeaf(u.right.leaves[k]!, p.right.leaves[k]!, u.right.paths[k]!);
      if (E.isLeft(leaf)) return leaf;
      out.push(leaf.right);
    }
    return E.right([unflatten(u.right.def, out, u.right.paths), state] as const);
  };

  const update = (updates: Tree, s: AdaptiveGradClipState, params?: Tree): E.Either<OptimizerError, Step<AdaptiveGradClipState>> => {
    try {
      return step(updates, s, params);
    } catch (e) {
      return E.left(optimizerError("StateMismatch", `${name}: its updates, state or params cannot be read: reading them threw ${showValue(e)}`));
    }
  };
  return Object.freeze({ name, hyperparams, init: (params: Tree) => E.map(() => state)(flatten(params)), update });
};

registerBuilder("adaptiveGradClip", adaptiveGradClip);
