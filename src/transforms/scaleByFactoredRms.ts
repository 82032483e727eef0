/**
 * Adafactor's scaling (Shazeer & Stern 2018): the update divided by a root-mean-square estimate of the gradient that,
 * for a matrix, keeps only its row and column means, so the state of an m×n leaf is m + n numbers instead of m·n.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { checkCount, failing, stateOfKind, stateTreeMatching } from "../core/elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { allocate, denseValues, dtypeOf, leafOf, sizeOf, type FloatArray, type Leaf } from "../core/leaf.js";
import { aBoolean, aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, unflatten, type Flat, type Tree } from "../core/tree.js";

/** Options of {@link scaleByFactoredRms}, named and defaulted as optax's `scale_by_factored_rms`. */
export interface ScaleByFactoredRmsOptions {
  /** Factor the second moment of leaves with two dimensions ≥ `minDimSizeToFactor` (default true). */
  readonly factored?: boolean;
  /** The exponent c of the decay schedule β̂ₜ = 1 − t^(−c) (default 0.8). */
  readonly decayRate?: number;
  /** The step the schedule counts from (optax's `step_offset`, adafactor's `decay_offset`; default 0). */
  readonly decayOffset?: number;
  /** A leaf is factored when its second-largest dimension is at least this (default 128). */
  readonly minDimSizeToFactor?: number;
  /** ε₁ added to u² (default 1e-30). */
  readonly eps?: number;
}

/**
 * State of {@link scaleByFactoredRms}: steps taken and three trees of the params' structure. A factored leaf of
 * shape s, with d₀ its largest axis and d₁ the second largest, keeps `vRow` (the mean over d₀: s without d₀) and
 * `vCol` (the mean over d₁: s without d₁), and a one-element 0 in `v`; any other leaf keeps its full `v` and
 * one-element zeros in `vRow` and `vCol` (optax's layout). All in the leaf's dtype.
 */
export interface ScaleByFactoredRmsState {
  readonly kind: "scaleByFactoredRms";
  readonly count: number;
  readonly vRow: Tree;
  readonly vCol: Tree;
  readonly v: Tree;
}

/**
 * The two axes a leaf of this shape is factored over, [d₁, d₀] (second-largest, largest; of equal sizes the later
 * axis counts as the larger, as NumPy's stable argsort orders them), or undefined when it is not factored: fewer than
 * two dimensions, `factored` false, or a second-largest dimension below `minDimSizeToFactor`.
 * @example
 * factoredDims([64, 3, 3, 3], true, 2) // [3, 0]: d₀ = 0 (the 64), d₁ = 3 (the last of the 3s); with 4 instead of 2, undefined
 */
export const factoredDims = (shape: readonly number[], factored: boolean, minDimSizeToFactor: number): readonly [number, number] | undefined => {
  try {
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number") || factored !== true || shape.length < 2) return undefined;
  } catch {
    return undefined; // a revoked Proxy
  }
  const order = shape.map((_, k) => k).sort((a, b) => shape[a]! - shape[b]! || a - b); // ascending, stable
  const d1 = order[order.length - 2]!;
  const d0 = order[order.length - 1]!;
  return shape[d1]! >= minDimSizeToFactor ? [d1, d0] : undefined;
};

/** The shape without axis k. */
const without = (shape: readonly number[], k: number): number[] => shape.filter((_, j) => j !== k);

/** The row-major index of element i of a leaf of `shape` once axis k is removed: i = (hi·dₖ + j)·s + lo ↦ hi·s + lo. */
const dropAxis = (shape: readonly number[], k: number): ((i: number) => number) => {
  const inner = sizeOf(shape.slice(k + 1));
  const span = inner * shape[k]!;
  return (i) => Math.floor(i / span) * inner + (i % inner);
};

/** The mean of `x` (a leaf of `shape`, row-major) over axis k, in float64. */
const meanOver = (x: ArrayLike<number>, shape: readonly number[], k: number): Float64Array => {
  const out = new Float64Array(sizeOf(without(shape, k)));
  const to = dropAxis(shape, k);
  for (let i = 0; i < x.length; i++) out[to(i)]! += x[i]!;
  for (let r = 0; r < out.length; r++) out[r]! /= shape[k]!;
  return out;
};

/**
 * The decay β̂ₜ = 1 − t^(−c) at the count before the step, t = count − decayOffset + 1, computed in float32 as optax
 * computes it whatever the params' dtype (t and the schedule are float32 there), with 1 − β̂ₜ. A t ≤ 0 (a decay
 * offset beyond the count) has no decay (optax's NaN or −∞) and is an InvalidOption Left naming the step.
 */
const decayAt = (count: number, decayOffset: number, decayRate: number): E.Either<OptimizerError, readonly [number, number]> => {
  const t = Math.fround(count - decayOffset + 1);
  if (!(t > 0))
    return E.left(optimizerError("InvalidOption", `scaleByFactoredRms: at step ${count} the decay schedule's t = step − decayOffset + 1 = ${t} is not > 0 (decayOffset ${decayOffset})`, { step: count }));
  const decay = Math.fround(1 - Math.fround(Math.pow(t, Math.fround(-decayRate)))); // β̂ₜ = 1 − t^(−c)
  return E.right([decay, Math.fround(1 - decay)]);
};

const zeros1 = (leaf: Leaf): Leaf => leafOf(allocate(dtypeOf(leaf), 1), [1]);
const zerosOf = (leaf: Leaf, shape: readonly number[]): Leaf => leafOf(allocate(dtypeOf(leaf), sizeOf(shape)), shape);

/** One leaf's step: its new statistics and its update. */
interface LeafStep {
  readonly vRow: Leaf;
  readonly vCol: Leaf;
  readonly v: Leaf;
  readonly u: Leaf;
}

/**
 * A leaf of `shape` seen around its two factored axes a < b: i = (((o·n_a + k_a)·mid + m)·n_b + k_b)·inner + c, so a
 * plain loop over i is five nested loops, and i's index once axis a is removed, ((o·mid + m)·n_b + k_b)·inner + c,
 * and once axis b is removed, ((o·n_a + k_a)·mid + m)·inner + c, are sums of the loops' counters (no division per value).
 */
const around = (shape: readonly number[], a: number, b: number) => ({
  outer: sizeOf(shape.slice(0, a)),
  nA: shape[a]!,
  mid: sizeOf(shape.slice(a + 1, b)),
  nB: shape[b]!,
  inner: sizeOf(shape.slice(b + 1)),
});

/**
 * Σ over axis a and Σ over axis b of u² + ε₁, in float64, in one pass: each sum adds its values in increasing i, as
 * a loop over i adding into the index without that axis would (so the bits of a mean taken axis by axis).
 */
const squareSums = (g: FloatArray, shape: readonly number[], a: number, b: number, eps: number): readonly [Float64Array, Float64Array] => {
  const { outer, nA, mid, nB, inner } = around(shape, a, b);
  const withoutA = new Float64Array(outer * mid * nB * inner);
  const withoutB = new Float64Array(outer * nA * mid * inner);
  let i = 0;
  for (let o = 0; o < outer; o++)
    for (let ka = 0; ka < nA; ka++)
      for (let m = 0; m < mid; m++) {
        const toB = ((o * nA + ka) * mid + m) * inner;
        const toA = (o * mid + m) * nB * inner;
        if (inner === 1) {
          // a matrix or a 1×1 convolution: the sum without b stays in a register (the same additions in the same order)
          let sumB = withoutB[toB]!;
          for (let kb = 0; kb < nB; kb++, i++) {
            const sq = g[i]! * g[i]! + eps; // u² + ε₁
            withoutA[toA + kb]! += sq;
            sumB += sq;
          }
          withoutB[toB] = sumB;
          continue;
        }
        for (let kb = 0, at = toA; kb < nB; kb++, at += inner)
          for (let c = 0; c < inner; c++, i++) {
            const sq = g[i]! * g[i]! + eps; // u² + ε₁
            withoutA[at + c]! += sq;
            withoutB[toB + c]! += sq;
          }
      }
  return [withoutA, withoutB];
};

/**
 * u′ᵢ = uᵢ · fA[i without axis a] · fB[i without axis b] (the five loops of {@link around}), multiplied in that order,
 * or with `bFirst` as uᵢ · fB[…] · fA[…].
 */
const scaleAround = (g: FloatArray, shape: readonly number[], a: number, b: number, fA: FloatArray, fB: FloatArray, bFirst: boolean, out: FloatArray): void => {
  const { outer, nA, mid, nB, inner } = around(shape, a, b);
  let i = 0;
  for (let o = 0; o < outer; o++)
    for (let ka = 0; ka < nA; ka++)
      for (let m = 0; m < mid; m++) {
        const toB = ((o * nA + ka) * mid + m) * inner;
        const toA = (o * mid + m) * nB * inner;
        if (inner === 1) {
          const b = fB[toB]!; // one factor for the whole row
          if (bFirst) for (let kb = 0; kb < nB; kb++, i++) out[i] = g[i]! * b * fA[toA + kb]!;
          else for (let kb = 0; kb < nB; kb++, i++) out[i] = g[i]! * fA[toA + kb]! * b;
          continue;
        }
        for (let kb = 0, at = toA; kb < nB; kb++, at += inner)
          if (bFirst) for (let c = 0; c < inner; c++, i++) out[i] = g[i]! * fB[toB + c]! * fA[at + c]!;
          else for (let c = 0; c < inner; c++, i++) out[i] = g[i]! * fA[at + c]! * fB[toB + c]!;
      }
};

/** A factored leaf: v_row, v_col ← β̂·v + (1 − β̂)·mean(u² + ε₁), then u′ = u · (v_row / mean(v_row))^(−½) · v_col^(−½). */
const factoredStep = (u: Leaf, [d1, d0]: readonly [number, number], vRow: FloatArray, vCol: FloatArray, decay: number, rest: number, eps: number): LeafStep => {
  const { shape } = u;
  const dtype = dtypeOf(u);
  const g = denseValues(u);
  const rowShape = without(shape, d0);
  const colShape = without(shape, d1);
  const [a, b] = d0 < d1 ? [d0, d1] : [d1, d0];
  const [withoutA, withoutB] = squareSums(g, shape, a, b, eps);
  const rowMean = a === d0 ? withoutA : withoutB; // Σ over d₀, then ÷ d₀
  const colMean = a === d0 ? withoutB : withoutA; // Σ over d₁, then ÷ d₁
  for (let r = 0; r < rowMean.length; r++) rowMean[r]! /= shape[d0]!;
  for (let c = 0; c < colMean.length; c++) colMean[c]! /= shape[d1]!;
  const newRow = allocate(dtype, rowMean.length);
  for (let r = 0; r < newRow.length; r++) newRow[r] = decay * vRow[r]! + rest * rowMean[r]!; // v_row ← β̂·v_row + (1 − β̂)·mean_d₀
  const newCol = allocate(dtype, colMean.length);
  for (let c = 0; c < newCol.length; c++) newCol[c] = decay * vCol[c]! + rest * colMean[c]!; // v_col ← β̂·v_col + (1 − β̂)·mean_d₁
  // d₁ as an axis of v_row (d₀ removed before it); the mean of v_row over it, per remaining index
  const rowD1 = d1 > d0 ? d1 - 1 : d1;
  const rowColMean = meanOver(newRow, rowShape, rowD1);
  const toRowCol = dropAxis(rowShape, rowD1);
  const rowFactor = allocate(dtype, newRow.length);
  for (let r = 0; r < newRow.length; r++) rowFactor[r] = 1 / Math.sqrt(newRow[r]! / rowColMean[toRowCol(r)]!); // (v_row / mean v_row)^(−½)
  const colFactor = allocate(dtype, newCol.length);
  for (let c = 0; c < newCol.length; c++) colFactor[c] = 1 / Math.sqrt(newCol[c]!); // v_col^(−½)
  const out = allocate(dtype, g.length);
  // u′ = u · rowFactor[i without d₀] · colFactor[i without d₁]
  if (a === d0) scaleAround(g, shape, a, b, rowFactor, colFactor, false, out);
  else scaleAround(g, shape, a, b, colFactor, rowFactor, true, out);
  return { vRow: leafOf(newRow, rowShape), vCol: leafOf(newCol, colShape), v: zeros1(u), u: leafOf(out, shape) };
};

/** Any other leaf: v ← β̂·v + (1 − β̂)·(u² + ε₁), u′ = u / √v. */
const fullStep = (u: Leaf, v: FloatArray, decay: number, rest: number, eps: number): LeafStep => {
  const dtype = dtypeOf(u);
  const g = denseValues(u);
  const newV = allocate(dtype, g.length);
  const out = allocate(dtype, g.length);
  for (let i = 0; i < g.length; i++) {
    newV[i] = decay * v[i]! + rest * (g[i]! * g[i]! + eps); // v ← β̂·v + (1 − β̂)·(u² + ε₁)
    out[i] = g[i]! / Math.sqrt(newV[i]!); // u′ = u·v^(−½)
  }
  return { vRow: zeros1(u), vCol: zeros1(u), v: leafOf(newV, u.shape), u: leafOf(out, u.shape) };
};

/** The state leaves a leaf of this type keeps, zeros: [vRow, vCol, v]. */
const initialLeaves = (leaf: Leaf, dims: readonly [number, number] | undefined): readonly [Leaf, Leaf, Leaf] =>
  dims === undefined
    ? [zeros1(leaf), zeros1(leaf), zerosOf(leaf, leaf.shape)]
    : [zerosOf(leaf, without(leaf.shape, dims[1])), zerosOf(leaf, without(leaf.shape, dims[0])), zeros1(leaf)];

/** The state's three trees, each checked to have the structure and, leaf by leaf, the shapes and dtype this leaf type keeps. */
const stateTrees = (name: string, s: ScaleByFactoredRmsState, updates: Flat, dimsOf: (leaf: Leaf) => readonly [number, number] | undefined): E.Either<OptimizerError, readonly Flat[]> => {
  const expected = flattenTrees(updates, dimsOf);
  const out: Flat[] = [];
  for (const [k, field] of (["vRow", "vCol", "v"] as const).entries()) {
    const tree = stateTreeMatching(name, s[field], expected[k]!);
    if (E.isLeft(tree)) return E.left(optimizerError("StateMismatch", `${tree.left.message} (its ${field})`, tree.left.path !== undefined ? { path: tree.left.path } : {}));
    out.push(tree.right);
  }
  return E.right(out);
};

/** The zero state trees for the updates' leaves, as Flats of the same structure. */
const flattenTrees = (updates: Flat, dimsOf: (leaf: Leaf) => readonly [number, number] | undefined): readonly Flat[] => {
  const leaves = updates.leaves.map((leaf) => initialLeaves(leaf, dimsOf(leaf)));
  return [0, 1, 2].map((k) => ({ def: updates.def, paths: updates.paths, leaves: leaves.map((l) => l[k]!) }));
};

/**
 * optax's `scale_by_factored_rms`, per leaf at step t = count − decayOffset + 1 with β̂ₜ = 1 − t^(−c) (float32, as
 * optax computes it) and the leaf's update u:
 *
 *   factored (two largest axes d₀ ≥ d₁, the second ≥ minDimSizeToFactor):
 *     r ← β̂ₜ·r + (1 − β̂ₜ)·mean_{d₀}(u² + ε₁),   c ← β̂ₜ·c + (1 − β̂ₜ)·mean_{d₁}(u² + ε₁)
 *     u′ = u · (r / mean_{d₁}(r))^(−½) · c^(−½)          (r broadcast along d₀, c along d₁)
 *   otherwise:
 *     v ← β̂ₜ·v + (1 − β̂ₜ)·(u² + ε₁),   u′ = u / √v
 *
 * r·c / mean(r) is the rank-1 estimate of the full second moment v (Shazeer & Stern 2018), so a factored m×n leaf
 * keeps m + n numbers, not m·n (see {@link ScaleByFactoredRmsState}). Means are taken in float64; each state value
 * and u′ is stored once in the leaf's dtype. It reads whole rows and columns before it writes, so it is not fusable.
 * A t ≤ 0 (a decayOffset beyond the step) is an InvalidOption Left; NaN in u gives NaN, as in optax.
 * @example
 * const direction = scaleByFactoredRms({ minDimSizeToFactor: 128, decayRate: 0.8 });
 */
export const scaleByFactoredRms = (o: ScaleByFactoredRmsOptions = {}): GradientTransformation<ScaleByFactoredRmsState> => {
  const name = "scaleByFactoredRms";
  const read = readOptions(name, o, {
    factored: optional(aBoolean, true), decayRate: optional(aNumber, 0.8), decayOffset: optional(aNumber, 0),
    minDimSizeToFactor: optional(aNumber, 128), eps: optional(aNumber, 1e-30),
  });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { factored, decayRate, decayOffset, minDimSizeToFactor, eps } = read.right;
  const hyperparams = { factored, decayRate, decayOffset, minDimSizeToFactor, eps };
  const refuse = (why: string) => failing<ScaleByFactoredRmsState>(name, hyperparams, optimizerError("InvalidOption", `${name}: ${why}`));
  if (!(Number.isFinite(decayRate) && decayRate >= 0)) return refuse(`Invalid decayRate: ${showValue(decayRate)} (must be finite and >= 0)`);
  if (!Number.isSafeInteger(decayOffset)) return refuse(`Invalid decayOffset: ${showValue(decayOffset)} (must be a whole number)`);
  if (!(Number.isSafeInteger(minDimSizeToFactor) && minDimSizeToFactor >= 0)) return refuse(`Invalid minDimSizeToFactor: ${showValue(minDimSizeToFactor)} (must be a whole number >= 0)`);
  if (!(Number.isFinite(eps) && eps >= 0)) return refuse(`Invalid eps: ${showValue(eps)} (must be finite and >= 0)`);
  const dimsOf = (leaf: Leaf) => factoredDims(leaf.shape, factored, minDimSizeToFactor);

  const init = (params: Tree): E.Either<OptimizerError, ScaleByFactoredRmsState> =>
    E.map((flat: Flat) => {
      const [vRow, vCol, v] = flattenTrees(flat, dimsOf).map((f) => unflatten(f.def, f.leaves, f.paths));
      return Object.freeze({ kind: name, count: 0, vRow: vRow!, vCol: vCol!, v: v! });
    })(flatten(params));

  const step = (updates: Tree, state: ScaleByFactoredRmsState): E.Either<OptimizerError, Step<ScaleByFactoredRmsState>> => {
    const s = stateOfKind<ScaleByFactoredRmsState>(state, name);
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    const trees = stateTrees(name, s.right, u.right, dimsOf);
    if (E.isLeft(trees)) return trees;
    const decay = decayAt(count.right, decayOffset, decayRate);
    if (E.isLeft(decay)) return decay;
    const [beta, rest] = decay.right;
    const [rows, cols, full] = trees.right;
    const steps = u.right.leaves.map((leaf, k) => {
      const dims = dimsOf(leaf);
      return dims === undefined
        ? fullStep(leaf, denseValues(full!.leaves[k]!), beta, rest, eps)
        : factoredStep(leaf, dims, denseValues(rows!.leaves[k]!), denseValues(cols!.leaves[k]!), beta, rest, eps);
    });
    const tree = (pick: (l: LeafStep) => Leaf) => unflatten(u.right.def, steps.map(pick), u.right.paths);
    const next = Object.freeze({ kind: name, count: count.right + 1, vRow: tree((l) => l.vRow), vCol: tree((l) => l.vCol), v: tree((l) => l.v) });
    return E.right([tree((l) => l.u), next] as const);
  };

  const update = (updates: Tree, state: ScaleByFactoredRmsState): E.Either<OptimizerError, Step<ScaleByFactoredRmsState>> => {
    try {
      return step(updates, state);
    } catch (e) {
      return E.left(optimizerError("StateMismatch", `${name}: its updates or state cannot be read: reading them threw ${showValue(e)}`));
    }
  };
  return Object.freeze({ name, hyperparams, init, update });
};

registerBuilder("scaleByFactoredRms", scaleByFactoredRms);
