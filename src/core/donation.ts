/**
 * Donation (JAX's buffer donation): a caller may hand its old params and state over to a step
 * ({@link applyStep} with `donate: true`), which may then write the new values into their storage instead of
 * fresh arrays. What was handed over is dead: its leaves, and the records and arrays that hold them, are marked
 * (a leaf larch made through its {@link LeafLife}, anything else in a WeakSet here), and any later use of it through
 * larch's API is a `StateReused` Left, never a silently wrong result.
 * @module
 */
import { builtFlat, isLeafless } from "./builtTrees.js";
import { optimizerError, type OptimizerError } from "./errors.js";
import { denseValues, isRowMajor, LIFE, type FloatArray, type Leaf, type LeafLife } from "./leaf.js";
import type { Flat } from "./tree.js";

/** Dead records, arrays and leaves without a {@link LeafLife} (leaves the caller made); larch's own leaves die through their life. */
const donated = new WeakSet<object>();

/**
 * Whether anything was ever put in {@link donated}: until then no lookup can find anything there, and a loop that
 * never donates a leaf of its own (pure steps, or donated trees larch built) skips one WeakSet lookup per object that
 * flatten walks (10-15 µs over a 1000-leaf gradient record).
 */
let anyDonated = false;

const lifeOf = (x: object): LeafLife | undefined => (x as { [LIFE]?: LeafLife })[LIFE];

const isShared = (buffer: ArrayBufferLike): boolean =>
  typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;

const isObject = (x: unknown): x is object => typeof x === "object" && x !== null;
const isView = (x: object): x is Leaf => "data" in x && "offset" in x && "stride" in x;

/**
 * Every leaf reachable from `value`, and every record or array on a path to one (typed arrays are not entered).
 * Records without leaves (a step count, a learning rate) are left out: reusing them cannot read overwritten
 * storage, and they may be constants shared between optimizers. Of a tree larch built, its root and its leaves:
 * its inner records are never used alone without being walked to their (dead) leaves.
 */
const holdersOf = (value: unknown, into: Set<object>): boolean => {
  const first = holderStep(value, into);
  if (typeof first === "boolean") return first;
  // the records and arrays being looked into, each after its children (its own stack: no depth limit)
  const stack: HolderFrame[] = [first];
  const open = new Set<object>([first.value]); // a value inside itself is not looked into again
  for (;;) {
    const top = stack[stack.length - 1]!;
    // numbers and other primitives hold nothing (a record of 1000 trust ratios: skipped in a tight loop)
    const items = top.items;
    let k = top.next;
    while (k < items.length && !isObject(items[k])) k++;
    top.next = k;
    if (k < items.length) {
      const item = items[top.next++] as object;
      if (open.has(item)) continue;
      const found = holderStep(item, into);
      if (typeof found === "boolean") top.holds = found || top.holds;
      else {
        stack.push(found);
        open.add(found.value);
      }
      continue;
    }
    stack.pop();
    open.delete(top.value);
    if (top.holds) into.add(top.value);
    if (stack.length === 0) return top.holds;
    const parent = stack[stack.length - 1]!;
    parent.holds = top.holds || parent.holds;
  }
};

/** A record or array being looked into by {@link holdersOf}: whether any child seen so far holds a leaf. */
interface HolderFrame {
  readonly value: object;
  readonly items: readonly unknown[];
  next: number;
  holds: boolean;
}

/** Whether `value` holds a leaf when that is known at once (adding what it finds to `into`), else its frame. */
const holderStep = (value: unknown, into: Set<object>): boolean | HolderFrame => {
  if (!isObject(value) || ArrayBuffer.isView(value)) return false;
  if (into.has(value)) return true;
  if (isView(value)) return into.add(value), true;
  if (isLeafless(value)) return false;
  const built = builtFlat(value);
  if (built !== undefined) {
    for (const leaf of built.leaves) into.add(leaf);
    if (built.leaves.length > 0) into.add(value);
    return built.leaves.length > 0;
  }
  return { value, items: Array.isArray(value) ? value : Object.values(value), next: 0, holds: false };
};

/** Takes out of `dead` every object `value` reaches (what a step's results still hold), as {@link holdersOf} finds them. */
const spare = (value: unknown, dead: Set<object>): void => {
  const stack = [value];
  const seen = new Set<object>();
  while (stack.length > 0 && dead.size > 0) {
    const v = stack.pop();
    if (!isObject(v) || ArrayBuffer.isView(v) || seen.has(v)) continue;
    dead.delete(v);
    if (isView(v)) continue; // a leaf holds nothing more: no need to remember it was seen
    seen.add(v);
    if (isLeafless(v)) continue;
    const built = builtFlat(v);
    if (built !== undefined) for (const leaf of built.leaves) dead.delete(leaf);
    else for (const item of Array.isArray(v) ? v : Object.values(v)) if (isObject(item)) stack.push(item);
  }
};

/** Every leaf reachable from `value` (a state record, a tree), each once. */
export const leavesOf = (value: unknown): Leaf[] => {
  const found = new Set<object>();
  holdersOf(value, found);
  return [...found].filter(isView);
};

/**
 * A donating step's walk of its old state ({@link donatedStorage}'s): the state and every leaf and holder of one in it
 * ({@link holdersOf}), so that {@link markDonated} need not walk it again (a 1000-leaf state: a Set operation per leaf).
 */
export interface StateWalk {
  state?: unknown;
  holders?: Set<object>;
}

/**
 * Marks the trees handed over to a step as donated: every leaf, and every record or array that holds one, except
 * those the step's results still hold (a transformation may return an unchanged part of its state).
 */
export const markDonated = (handedOver: readonly unknown[], kept: readonly unknown[], walk: StateWalk = {}): void => {
  const dead = walk.holders ?? new Set<object>(); // what the step's donatedStorage found in the state, not walked again
  for (const h of handedOver) if (walk.holders === undefined || h !== walk.state) holdersOf(h, dead);
  for (const k of kept) spare(k, dead);
  for (const x of dead) {
    const life = lifeOf(x);
    if (life !== undefined) life.dead = true;
    else {
      donated.add(x);
      anyDonated = true;
    }
  }
};

/**
 * True when `value` (a tree, a state record or a leaf) was handed over to an earlier step.
 * @example
 * isDonated(oldState) // true after applyStep(opt, grads, oldState, params, { donate: true })
 */
export const isDonated = (value: unknown): boolean => {
  if (!isObject(value)) return false;
  if (anyDonated && donated.has(value)) return true;
  try {
    return lifeOf(value)?.dead === true;
  } catch {
    return false; // a Proxy whose get trap throws: not a leaf larch made, so not one donation marked through its life
  }
};

/** The Left for a donated value used again; `what` names it ("state", "params", "leaf fc.weight"). */
export const reusedError = (what: string, path?: string): OptimizerError =>
  optimizerError(
    "StateReused",
    `this ${what} was donated to an earlier step (donate: true), which may have overwritten its storage; use the params and state that step returned`,
    path !== undefined ? { path } : {},
  );

/**
 * The storage a donating step may overwrite: for each donated leaf whose values are contiguous and whose buffer no
 * other leaf of the step's inputs (the donated ones and `otherLeaves`) touches, its dense values; any other leaf gets
 * fresh storage. Storage in a SharedArrayBuffer is never overwritten: other threads, and views through other buffer
 * objects of the same memory (a WebAssembly memory shows a new one after each grow), may see it, and a region of
 * kernel memory (kernelTree) belongs to its own array, not to a view of it.
 */
const reusableStorage = (donatedLeaves: readonly Leaf[], otherLeaves: readonly Leaf[]): Map<Leaf, FloatArray> => {
  // the buffers some input leaf uses, and those that more than one uses: one Set operation per leaf (a count per
  // buffer in a Map, a get and a set per leaf, cost 0.2-0.3 ms more of a 1000-leaf adamw step, 1.9 ms, loaded machine)
  const used = new Set<ArrayBufferLike>();
  const sharedByTwo = new Set<ArrayBufferLike>();
  const count = (buffer: ArrayBufferLike) => {
    const before = used.size;
    used.add(buffer);
    if (used.size === before) sharedByTwo.add(buffer);
  };
  const buffers = donatedLeaves.map((leaf) => leaf.data.buffer); // read once: `.buffer` is not free
  for (let i = 0; i < buffers.length; i++) count(buffers[i]!);
  for (let i = 0; i < otherLeaves.length; i++) count(otherLeaves[i]!.data.buffer);
  const out = new Map<Leaf, FloatArray>();
  for (let i = 0; i < donatedLeaves.length; i++) {
    const buffer = buffers[i]!;
    if (sharedByTwo.has(buffer) || isShared(buffer)) continue; // another leaf (or the same one given twice) uses it
    const leaf = donatedLeaves[i]!;
    if (isRowMajor(leaf)) out.set(leaf, denseValues(leaf));
  }
  return out;
};

/**
 * The storage a donating step may overwrite: the old params' and state's leaves that nothing else in the step's inputs
 * shares, nor anything in `held` (what results computed before the step's pass hold: a chain's head's updates and states).
 */
export const donatedStorage = (params: Flat, grads: Flat, state: unknown, held: readonly unknown[] = [], walk: StateWalk = {}): Map<Leaf, FloatArray> => {
  const holders = new Set<object>();
  holdersOf(state, holders);
  const stateLeaves = [...holders].filter(isView);
  walk.state = state;
  walk.holders = holders; // markDonated adds the params' holders to it: the state is not walked twice
  const heldLeaves = held.length === 0 ? [] : leavesOf(held);
  return reusableStorage([...params.leaves, ...stateLeaves], heldLeaves.length === 0 ? grads.leaves : [...grads.leaves, ...heldLeaves]);
};
