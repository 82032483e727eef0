/**
 * The views larch makes of its leaves, and the frozen shapes they share: the machinery under `leafOf`, and
 * {@link madeLeaf}, its shortcut for the leaves a step makes. Internal: not exported from the package (leaf.ts
 * re-exports {@link LIFE} and {@link LeafLife}).
 * @module
 */
import ndarray from "ndarray";
import { leafOf, type FloatArray, type Leaf } from "./leaf.js"; // (a cycle: each reads the other only when called)

/** The row-major strides of a shape: strideₖ = ∏_{j>k} dⱼ. */
const rowMajorStride = (shape: readonly number[]): number[] => {
  const stride = new Array<number>(shape.length);
  for (let k = shape.length - 1, s = 1; k >= 0; k--) {
    stride[k] = s;
    s *= shape[k]!;
  }
  return stride;
};

/**
 * A shape larch made carries its facts under this key (hidden, own): its frozen row-major strides, so that every leaf
 * made from it shares the two arrays, and its size (a WeakMap would cost an entry per new shape, and V8's
 * young-generation collector keeps a WeakMap's values alive). The size is there because reading an element of a
 * frozen array is slow in V8 (about 5 ns, against under 1 for an array that can still grow: the optimising compiler
 * does not inline loads from non-extensible elements), and a step reads the shapes of its new leaves several times
 * a leaf (their storage's size, whether their values are dense).
 */
const FACTS: unique symbol = Symbol("larch.shapeFacts");

/** What a shape larch made carries (see {@link FACTS}). */
interface ShapeFacts {
  readonly stride: readonly number[];
  readonly size: number;
}

/** A frozen copy of a checked shape (whole extents ≥ 0, of a safe size), carrying its facts. */
const frozenShape = (shape: readonly number[]): readonly number[] => {
  const copy = [...shape];
  let size = 1;
  for (const d of copy) size *= d;
  Object.defineProperty(copy, FACTS, { value: Object.freeze({ stride: Object.freeze(rowMajorStride(copy)), size } satisfies ShapeFacts) });
  return Object.freeze(copy);
};

/**
 * The frozen rank-1 shapes [n] larch made, by n (at most {@link RANK1_KEPT} of them): a shape is immutable, so every
 * leaf of n values may share one (`leafOf(x, [n])` in a loop, a 1000-leaf tree's fresh gradients, froze a copy per
 * leaf and call).
 */
const rank1 = new Map<number, readonly number[]>();
const RANK1_KEPT = 4096;

/** The frozen shape for a checked shape: the shared one for rank 1, else a frozen copy. */
export const sharedShape = (shape: readonly number[]): readonly number[] => {
  if (shape.length !== 1) return frozenShape(shape);
  const n = shape[0]!;
  const hit = rank1.get(n);
  if (hit !== undefined) return hit;
  const made = frozenShape(shape);
  if (rank1.size < RANK1_KEPT) rank1.set(n, made);
  return made;
};

/** The facts a shape larch made carries, or undefined for any other array. */
const factsOf = (shape: readonly number[]): ShapeFacts | undefined =>
  Object.prototype.hasOwnProperty.call(shape, FACTS) ? (shape as { [FACTS]?: ShapeFacts })[FACTS] : undefined;

/** The frozen strides a shape larch made carries, or undefined for any other array. */
export const strideOf = (shape: readonly number[]): readonly number[] | undefined => factsOf(shape)?.stride;

/**
 * The number of values of a shape larch made, n = ∏ₖ dₖ, read without its elements (see {@link FACTS}); undefined for
 * any other array.
 * @example
 * madeSize(leafOf(data, [2, 3]).shape) === 6; madeSize([2, 3]) === undefined
 */
export const madeSize = (shape: readonly number[]): number | undefined => factsOf(shape)?.size;

/**
 * The leaf's storage when it is a view larch made over the whole of it (its shape's own strides, from the start, as
 * long as the shape): what `denseValues` gives such a leaf, found without reading the frozen shape's elements;
 * undefined for any other leaf (then `denseValues` looks at it).
 * @example
 * madeDense(leafOf(data, [2, 3])) === data
 */
export const madeDense = (leaf: Leaf): FloatArray | undefined => {
  const facts = factsOf(leaf.shape);
  return facts !== undefined && leaf.stride === facts.stride && leaf.offset === 0 && leaf.data.length === facts.size ? leaf.data : undefined;
};

/**
 * What donation (core/donation.ts) keeps of a leaf larch made, in one small record per leaf, so that its bookkeeping
 * is a store rather than an entry in a WeakSet or Map (~0.7 µs in V8 when most entries die young): whether the leaf
 * may still be used (set dead when it is handed over to a donating step, which may then overwrite its storage); the
 * leaf itself when it views the whole of storage no other leaf larch made views (a step's new leaf over an array
 * allocated for it, or taken over from a donated one: {@link madeLeaf}), else undefined (a copy of the leaf, which
 * shares its life, is not it); and the last donating step that met it.
 */
export interface LeafLife {
  dead: boolean;
  own: Leaf | undefined;
  /** the token of the last donating step that met the leaf among its inputs, negated when it may not be reused */
  met: number;
  /**
   * the own leaf's `data.buffer` once donation read it (30 ns a read in V8), carried to the next leaf larch makes
   * over the same storage (a typed array's buffer never changes)
   */
  buffer: ArrayBufferLike | undefined;
}

/** The key of a leaf's {@link LeafLife} on the leaves larch makes: a symbol, so not among ndarray's own keys. */
export const LIFE: unique symbol = Symbol("larch.leafLife");

/** Makes a view with ndarray's own fields (data, shape, stride, offset, in that order) on ndarray's prototype, and its life. */
type ViewMaker = new (data: FloatArray, shape: readonly number[], stride: readonly number[], own: boolean, buffer?: ArrayBufferLike) => Leaf;

/**
 * A constructor of views sharing the prototype of ndarray's views of that dtype and rank (so they have ndarray's
 * methods, and `instanceof` holds), one per dtype and rank. ndarray's own constructor copies the shape and strides
 * into two new arrays, which a leaf that shares frozen ones would throw away.
 */
const viewMaker = (prototype: object): ViewMaker => {
  function LeafView(this: Record<string | symbol, unknown>, data: FloatArray, shape: readonly number[], stride: readonly number[], own: boolean, buffer?: ArrayBufferLike) {
    this.data = data;
    this.shape = shape;
    this.stride = stride;
    this.offset = 0;
    this[LIFE] = { dead: false, own: own ? (this as unknown as Leaf) : undefined, met: 0, buffer } satisfies LeafLife;
  }
  LeafView.prototype = prototype;
  return LeafView as unknown as ViewMaker;
};

/** The view makers, at 2·rank for float32 and 2·rank + 1 for float64. */
const viewMakers: (ViewMaker | undefined)[] = [];
export const viewMakerFor = (data: FloatArray, rank: number): ViewMaker => {
  const key = 2 * rank + (data instanceof Float32Array ? 0 : 1);
  return (viewMakers[key] ??= viewMaker(Object.getPrototypeOf(ndarray(data.subarray(0, 0), new Array<number>(rank).fill(0))) as object));
};

/**
 * A new leaf over storage larch allocated for it alone (a Float32Array or Float64Array it made, or took over from a
 * donated leaf that had it alone), of the shape of a leaf larch checked: `leafOf(data, shape)` without its checks of
 * the two when the shape is one larch made (it carries its strides), else `leafOf` itself; its life says the storage
 * is its own (see {@link LeafLife}). A step's new params and state leaves take the old leaves' shapes, which larch
 * made from the second step on: each costs the view, its life and its freezing, nothing more. `from`, the leaf whose
 * storage or shape the new one takes, hands on what its life knows of that storage when it is the same.
 * @example
 * const next = madeLeaf(new Float32Array(sizeOf(old.shape)), old.shape); // the same leaf as leafOf(…) gives
 */
export const madeLeaf = (data: FloatArray, shape: readonly number[], from?: Leaf): Leaf => {
  let stride: readonly number[] | undefined;
  try {
    stride = strideOf(shape);
  } catch {
    stride = undefined; // a Proxy shape whose trap throws: leafOf refuses it
  }
  if (stride === undefined) {
    const checked = leafOf(data, shape); // a shape larch did not make: checked, copied and frozen with its strides
    const life = (checked as { [LIFE]?: LeafLife })[LIFE];
    if (life !== undefined) life.own = checked; // (a refused leaf has none)
    return checked;
  }
  const View = viewMakerFor(data, shape.length);
  return Object.freeze(new View(data, shape, stride, true, from === undefined ? undefined : carriedBuffer(from, data)));
};

/** The buffer `from`'s life knows, when `from` is a leaf larch made over storage of its own and that is `data`. */
const carriedBuffer = (from: Leaf, data: FloatArray): ArrayBufferLike | undefined => {
  try {
    const before = (from as { [LIFE]?: LeafLife })[LIFE];
    return before !== undefined && before.own === from && from.data === data ? before.buffer : undefined;
  } catch {
    return undefined; // a caller's Proxy whose trap throws: not a leaf larch made
  }
};
