/**
 * Arithmetic on whole trees, for authors of transformations (optax's `optax.tree` utilities): sums, scalings,
 * products and reductions of trees of ndarrays, each a fresh frozen tree (or a number) inside an Either.
 *
 * Binary operations need two trees of the same type (structure, and leaf by leaf shape and dtype), else the Left of
 * {@link flattenLike} names the first path where they differ. Elementwise results are computed in float64 and stored
 * in the leaf's dtype (one rounding per element; for + − × of two float32 values that is float32 arithmetic's own
 * result). Reductions accumulate in float64 in a fixed order, so the same tree always gives the same bits. No input is
 * written. A scalar argument that is not a number is an InvalidOption Left; NaN and ±Inf are values like any other.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";
import { allocate, denseValues, dtypeOf, leafOf, sizeOf, type FloatArray, type Leaf } from "./leaf.js";
import { sumOfProducts, sumOfSquares } from "./norm.js";
import { flatten, flattenLike, unflatten, type Flat, type Tree } from "./tree.js";

type Result<A> = E.Either<OptimizerError, A>;

const notANumber = (what: string, x: unknown): Result<never> =>
  E.left(optimizerError("InvalidOption", `${what} must be a number, got ${showValue(x)}`));

/** A tree of the same structure as `like`, leaf i's values from `values(i, n)` (a fresh array of leaf i's dtype, size n). */
const build = (like: Flat, fill: (i: number, out: FloatArray) => void): Tree =>
  unflatten(
    like.def,
    like.leaves.map((leaf, i) => {
      const out = allocate(dtypeOf(leaf), sizeOf(leaf.shape));
      fill(i, out);
      return leafOf(out, leaf.shape);
    }),
    like.paths,
  );

/** Both trees flattened, the second required to have the first's type. */
const pair = (a: unknown, b: unknown): Result<readonly [Flat, Flat]> => {
  const x = flatten(a);
  if (E.isLeft(x)) return x;
  const y = flattenLike(x.right, b, ["first tree", "second tree"]);
  return E.isLeft(y) ? y : E.right([x.right, y.right] as const);
};

/** An elementwise binary operation over two trees of one type. */
const binary = (a: unknown, b: unknown, op: (x: number, y: number) => number): Result<Tree> =>
  E.map(([x, y]: readonly [Flat, Flat]) =>
    build(x, (i, out) => {
      const u = denseValues(x.leaves[i]!);
      const v = denseValues(y.leaves[i]!);
      for (let e = 0; e < out.length; e++) out[e] = op(u[e]!, v[e]!);
    }),
  )(pair(a, b));

/**
 * a + b, leaf by leaf and element by element.
 * @example
 * treeAdd(params, updates) // Right(p + u), as applyUpdates without its checks for non-finite values
 */
export const treeAdd = (a: Tree, b: Tree): Result<Tree> => binary(a, b, (x, y) => x + y);

/**
 * a − b, leaf by leaf and element by element.
 * @example
 * treeSub(fastParams, slowParams) // Right(f − s)
 */
export const treeSub = (a: Tree, b: Tree): Result<Tree> => binary(a, b, (x, y) => x - y);

/**
 * a ⊙ b: the elementwise (Hadamard) product.
 * @example
 * treeMul(grads, grads) // Right(g²), a second moment's increment
 */
export const treeMul = (a: Tree, b: Tree): Result<Tree> => binary(a, b, (x, y) => x * y);

/**
 * s·a for a number s.
 * @example
 * treeScale(-0.1, grads) // Right(−0.1·g)
 */
export const treeScale = (s: number, a: Tree): Result<Tree> => {
  if (typeof s !== "number") return notANumber("the scale", s);
  return E.map((x: Flat) =>
    build(x, (i, out) => {
      const u = denseValues(x.leaves[i]!);
      for (let e = 0; e < out.length; e++) out[e] = s * u[e]!;
    }),
  )(flatten(a));
};

/**
 * a + s·b (optax's `tree.add_scale`), with one rounding per element.
 * @example
 * treeAddScaled(params, -0.1, grads) // Right(p − 0.1·g)
 */
export const treeAddScaled = (a: Tree, s: number, b: Tree): Result<Tree> =>
  typeof s !== "number" ? notANumber("the scale", s) : binary(a, b, (x, y) => x + s * y);

/**
 * f applied element by element to one or more trees of one type: out = f(x, y, …) at every index, stored in the first
 * tree's dtype. A function that throws is an InvalidOption Left (with its message); the trees are only read.
 * @example
 * treeMap((g) => (Number.isNaN(g) ? 0 : g), grads) // Right(grads with every NaN replaced by 0)
 */
export const treeMap = (f: (...values: number[]) => number, ...trees: Tree[]): Result<Tree> => {
  if (typeof f !== "function") return E.left(optimizerError("InvalidOption", "treeMap needs a function of the elements"));
  if (trees.length === 0) return E.left(optimizerError("InvalidTree", "treeMap needs at least one tree"));
  const first = flatten(trees[0]);
  if (E.isLeft(first)) return first;
  const flats = [first.right];
  for (let t = 1; t < trees.length; t++) {
    const flat = flattenLike(first.right, trees[t], ["tree 0", `tree ${t}`]);
    if (E.isLeft(flat)) return flat;
    flats.push(flat.right);
  }
  try {
    return E.right(
      build(first.right, (i, out) => {
        const columns = flats.map((fl) => denseValues(fl.leaves[i]!));
        const args = new Array<number>(columns.length);
        for (let e = 0; e < out.length; e++) {
          for (let c = 0; c < columns.length; c++) args[c] = columns[c]![e]!;
          out[e] = f(...args);
        }
      }),
    );
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `the function given to treeMap failed: ${showValue(e)}`));
  }
};

/**
 * A tree shaped like `like` (structure, shapes, dtypes) with every value `value`.
 * @example
 * treeFull(params, 0.5) // Right(a tree of 0.5s, one leaf per param)
 */
export const treeFull = (like: Tree, value: number): Result<Tree> => {
  if (typeof value !== "number") return notANumber("the fill value", value);
  return E.map((x: Flat) => build(x, (_, out) => out.fill(value)))(flatten(like));
};

/**
 * Zeros shaped like `like` (optax's `tree.zeros_like`): a first moment's initial value.
 * @example
 * treeZerosLike(params) // Right(zeros, one leaf per param)
 */
export const treeZerosLike = (like: Tree): Result<Tree> => treeFull(like, 0);

/**
 * Ones shaped like `like`.
 * @example
 * treeOnesLike(params) // Right(ones, one leaf per param)
 */
export const treeOnesLike = (like: Tree): Result<Tree> => treeFull(like, 1);

/**
 * ⟨a, b⟩ = Σ over every leaf of Σᵢ aᵢ·bᵢ, accumulated in float64: per leaf in four interleaved lanes (the order of
 * {@link sumOfSquares}), then leaf by leaf in leaf order.
 * @example
 * treeVdot(grads, updates) // Right(Σ g·u), e.g. the cosine between a gradient and its update
 */
export const treeVdot = (a: Tree, b: Tree): Result<number> =>
  E.map(([x, y]: readonly [Flat, Flat]) => {
    let total = 0;
    for (let i = 0; i < x.leaves.length; i++) total += sumOfProducts(denseValues(x.leaves[i]!), denseValues(y.leaves[i]!));
    return total;
  })(pair(a, b));

/**
 * Σ of every value of every leaf, in float64, in leaf order.
 * @example
 * treeSum(grads) // Right(Σ g)
 */
export const treeSum = (a: Tree): Result<number> =>
  E.map((x: Flat) => {
    let total = 0;
    for (const leaf of x.leaves) {
      const v = denseValues(leaf);
      for (let e = 0; e < v.length; e++) total += v[e]!;
    }
    return total;
  })(flatten(a));

/** Below this a float64 sum of squares may have lost its small terms to underflow (as in core/norm.ts). */
const TINY = 2 ** -900;

/** ‖·‖₂ over all leaves: √⟨x, x⟩, rescaled by the largest magnitude M when ⟨x, x⟩ overflows or underflows. */
const norm2 = (values: readonly FloatArray[]): number => {
  let s = 0;
  for (const v of values) s += sumOfSquares(v);
  if (Number.isNaN(s) || (s >= TINY && s < Infinity)) return Math.sqrt(s);
  let max = 0;
  for (const v of values) for (let e = 0; e < v.length; e++) max = Math.max(max, Math.abs(v[e]!));
  if (max === 0 || max === Infinity || Number.isNaN(max)) return max;
  let scaled = 0;
  for (const v of values) for (let e = 0; e < v.length; e++) scaled += (v[e]! / max) * (v[e]! / max);
  return max * Math.sqrt(scaled); // M·√(Σ (xᵢ/M)²)
};

/**
 * The norm of a whole tree, as if its leaves were one vector: ord 2 (default) √(Σ x²), ord 1 Σ|x|, ord Infinity
 * max |x|; in float64, so float32 trees of any magnitude give the right value. For ord 2, when the sum of squares is
 * a normal float64 number, treeNorm(x) = √treeVdot(x, x) bit for bit; otherwise it is rescaled by the largest
 * magnitude M (M·√Σ(x/M)²), so float64 trees near the limits neither overflow nor underflow. NaN if a value is NaN.
 * @example
 * treeNorm(grads) // Right(‖g‖), the global norm clipByGlobalNorm compares with its threshold
 */
export const treeNorm = (a: Tree, ord: 1 | 2 | typeof Infinity = 2): Result<number> => {
  if (ord !== 1 && ord !== 2 && ord !== Infinity)
    return E.left(optimizerError("InvalidOption", `treeNorm's order must be 1, 2 or Infinity, got ${showValue(ord)}`));
  return E.map((x: Flat) => {
    const values = x.leaves.map((leaf: Leaf) => denseValues(leaf));
    if (ord === 2) return norm2(values);
    let acc = 0;
    for (const v of values)
      for (let e = 0; e < v.length; e++) {
        const m = Math.abs(v[e]!);
        acc = ord === 1 ? acc + m : Number.isNaN(m) || m > acc ? m : acc; // Σ|x|, or max |x| (NaN wins)
      }
    return acc;
  })(flatten(a));
};
