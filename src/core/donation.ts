/**
 * Donation (JAX's buffer donation): a caller may hand its old params and state over to a step
 * ({@link applyStep} with `donate: true`), which may then write the new values into their storage instead of
 * fresh arrays. What was handed over is dead: every record, array and leaf of it is remembered here, and any
 * later use of it through larch's API is a `StateReused` Left, never a silently wrong result.
 * @module
 */
import { optimizerError, type OptimizerError } from "./errors.js";
import { isRowMajor, sizeOf, type FloatArray, type Leaf } from "./leaf.js";
import type { Flat } from "./tree.js";

const donated = new WeakSet<object>();

const isShared = (buffer: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;

const isObject = (x: unknown): x is object => typeof x === "object" && x !== null;
const isView = (x: object): x is Leaf => "data" in x && "offset" in x && "stride" in x;

/** Every record, array and leaf reachable from `value` (typed arrays and other objects are not entered). */
const objectsOf = (value: unknown, into: Set<object>): Set<object> => {
  if (!isObject(value) || into.has(value) || ArrayBuffer.isView(value)) return into;
  into.add(value);
  if (isView(value)) return into;
  for (const item of Array.isArray(value) ? value : Object.values(value)) objectsOf(item, into);
  return into;
};

/** Every leaf reachable from `value` (a state record, a tree), each once. */
export const leavesOf = (value: unknown): Leaf[] => [...objectsOf(value, new Set())].filter(isView);

/**
 * Marks every record, array and leaf of the trees handed over as donated, except those the step's results still
 * hold (a transformation may return an unchanged part of its state, such as a constant record).
 */
export const markDonated = (handedOver: readonly unknown[], kept: readonly unknown[]): void => {
  const live = new Set<object>();
  for (const k of kept) objectsOf(k, live);
  const dead = new Set<object>();
  for (const h of handedOver) objectsOf(h, dead);
  for (const x of dead) if (!live.has(x)) donated.add(x);
};

/**
 * True when `value` (a tree, a state record or a leaf) was handed over to an earlier step.
 * @example
 * isDonated(oldState) // true after applyStep(opt, grads, oldState, params, { donate: true })
 */
export const isDonated = (value: unknown): boolean => isObject(value) && donated.has(value);

/** The Left for a donated value used again; `what` names it ("state", "params", "leaf fc.weight"). */
export const reusedError = (what: string, path?: string): OptimizerError =>
  optimizerError(
    "StateReused",
    `this ${what} was donated to an earlier step (donate: true), which may have overwritten its storage; use the params and state that step returned`,
    path !== undefined ? { path } : {},
  );

/**
 * The storage a donating step may overwrite: for each donated leaf whose values are contiguous and whose buffer no
 * other leaf of the step's inputs touches, its dense values; any other leaf gets fresh storage. Storage in a
 * SharedArrayBuffer is never overwritten: other threads, and views through other buffer objects of the same
 * memory (a WebAssembly memory shows a new one after each grow), may see it, and a region of kernel memory
 * (kernelTree) belongs to its own array, not to a view of it.
 */
export const reusableStorage = (donatedLeaves: readonly Leaf[], allLeaves: readonly Leaf[]): Map<Leaf, FloatArray> => {
  const users = new Map<ArrayBufferLike, number>();
  for (const leaf of allLeaves) users.set(leaf.data.buffer, (users.get(leaf.data.buffer) ?? 0) + 1);
  const out = new Map<Leaf, FloatArray>();
  for (const leaf of donatedLeaves) {
    if (users.get(leaf.data.buffer) !== 1 || isShared(leaf.data.buffer)) continue;
    if (!isRowMajor(leaf)) continue;
    const size = sizeOf(leaf.shape);
    out.set(leaf, leaf.data.subarray(leaf.offset, leaf.offset + size) as FloatArray);
  }
  return out;
};

/** The storage a donating step may overwrite: the old params' and state's leaves that nothing else in the step's inputs shares. */
export const donatedStorage = (params: Flat, grads: Flat, state: unknown): Map<Leaf, FloatArray> => {
  const stateLeaves = leavesOf(state);
  return reusableStorage([...params.leaves, ...stateLeaves], [...params.leaves, ...grads.leaves, ...stateLeaves]);
};
