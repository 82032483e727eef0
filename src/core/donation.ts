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
 * What a donating step was handed over, as its walks find it: a token of its own; the leaves larch made (those with
 * a {@link LeafLife}), each once, its life marking it met (the token; negated when it may not be reused: met twice, or
 * its storage handed out; 0 once a result still holds it); and, in a set, every other leaf and every record or array
 * on a path to a leaf. Marks in the lives, not entries in a set, since a set operation costs 40-50 ns a leaf (a
 * 1000-leaf adam step hands over 3,000 leaves).
 */
export interface HandedOver {
  readonly token: number;
  /** the lives of the leaves met that are their life's own (see views.ts): the leaf is the life's `own` */
  readonly own: LeafLife[];
  /** the other leaves met that have a life (a caller's `leafOf`, a copy of one of larch's leaves) */
  readonly lived: Leaf[];
  readonly holders: Set<object>;
  /** the leaves of the set reached more than once (by two paths: a record, or the leaf itself, held in two places) */
  readonly twice: Set<object>;
  /** how many leaves the set holds */
  lifeless: number;
}

/** The tokens of donating steps (a leaf's life remembers the last that met it). */
let lastToken = 0;

/** An empty {@link HandedOver} with a new token. */
const handedOver = (): HandedOver => ({ token: ++lastToken, own: [], lived: [], holders: new Set(), twice: new Set(), lifeless: 0 });

/** Counts a leaf among what was handed over: in its life when it has one (met once, or more), else in the set. */
const meetLeaf = (leaf: Leaf, into: Set<object>, found: HandedOver | undefined): void => {
  const life = found === undefined ? undefined : (leaf as { [LIFE]?: LeafLife })[LIFE]; // (not lifeOf: its own inline cache)
  if (life === undefined) {
    if (found !== undefined) {
      if (into.has(leaf)) found.twice.add(leaf);
      else found.lifeless++;
    }
    return void into.add(leaf);
  }
  const t = found!.token;
  if (life.met === t || life.met === -t) return void (life.met = -t);
  life.met = t;
  if (life.own === leaf) found!.own.push(life);
  else found!.lived.push(leaf);
};

/** Counts again every leaf under a record or array met before (reached by a second path: none of them is reused). */
const meetAgain = (value: object, found: HandedOver): void => {
  for (const leaf of leavesOf(value)) meetLeaf(leaf, found.holders, found);
};

/**
 * Every leaf reachable from `value`, and every record or array on a path to one (typed arrays are not entered).
 * Records without leaves (a step count, a learning rate) are left out: reusing them cannot read overwritten
 * storage, and they may be constants shared between optimizers. Of a tree larch built, its root and its leaves:
 * its inner records are never used alone without being walked to their (dead) leaves. With `found`, the leaves with
 * a life are counted there ({@link meetLeaf}) instead of in `into`.
 */
const holdersOf = (value: unknown, into: Set<object>, found?: HandedOver): boolean => {
  const first = holderStep(value, into, found);
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
      const found_ = holderStep(item, into, found);
      if (typeof found_ === "boolean") top.holds = found_ || top.holds;
      else {
        stack.push(found_);
        open.add(found_.value);
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

/** Whether `value` holds a leaf when that is known at once (adding what it finds to `into`, or `found`), else its frame. */
const holderStep = (value: unknown, into: Set<object>, found: HandedOver | undefined): boolean | HolderFrame => {
  if (!isObject(value) || ArrayBuffer.isView(value)) return false;
  if (isView(value)) return meetLeaf(value, into, found), true;
  if (into.has(value)) {
    if (found !== undefined) meetAgain(value, found);
    return true;
  }
  if (isLeafless(value)) return false;
  const built = builtFlat(value);
  if (built !== undefined) {
    for (const leaf of built.leaves) meetLeaf(leaf, into, found);
    if (built.leaves.length > 0) into.add(value);
    return built.leaves.length > 0;
  }
  return { value, items: Array.isArray(value) ? value : Object.values(value), next: 0, holds: false };
};

/**
 * Takes out of what was handed over every object `value` reaches (what a step's results still hold), as
 * {@link holdersOf} finds them: a leaf with a life by its mark (set to 0), anything else from the set.
 */
const spare = (value: unknown, found: HandedOver): void => {
  const { holders: dead, token } = found;
  const spareLeaf = (leaf: Leaf) => {
    const life = (leaf as { [LIFE]?: LeafLife })[LIFE]; // (not lifeOf: its own inline cache)
    if (life === undefined) {
      if (found.lifeless > 0) dead.delete(leaf); // (no lookup of a caller's 1000 fresh gradients when nothing is lifeless)
    } else if (life.met === token || life.met === -token) life.met = 0;
  };
  const stack = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (!isObject(v) || ArrayBuffer.isView(v) || seen.has(v)) continue;
    if (isView(v)) {
      spareLeaf(v); // a leaf holds nothing more: no need to remember it was seen
      continue;
    }
    dead.delete(v);
    seen.add(v);
    if (isLeafless(v)) continue;
    const built = builtFlat(v);
    if (built !== undefined) for (const leaf of built.leaves) spareLeaf(leaf);
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
 * A donating step's walk of what it was handed over ({@link donatedStorage}'s): the state, and what the walk found in
 * it and among the params' leaves, so that {@link markDonated} need not walk the state again (it walks the params'
 * tree for its records, meeting their leaves a second time: they are handed over either way).
 */
export interface StateWalk {
  state?: unknown;
  found?: HandedOver;
}

/**
 * Marks the trees handed over to a step as donated: every leaf, and every record or array that holds one, except
 * those the step's results still hold (a transformation may return an unchanged part of its state).
 */
export const markDonated = (handed: readonly unknown[], kept: readonly unknown[], walk: StateWalk = {}): void => {
  const found = walk.found ?? handedOver(); // what the step's donatedStorage found, not walked again
  for (const h of handed) if (walk.found === undefined || h !== walk.state) holdersOf(h, found.holders, found);
  for (const k of kept) spare(k, found);
  for (const life of found.own) if (life.met !== 0) life.dead = true;
  for (const leaf of found.lived) {
    const life = lifeOf(leaf)!;
    if (life.met !== 0) life.dead = true;
  }
  for (const x of found.holders) donated.add(x); // (records, and leaves without a life: the walks put any other in a life)
  anyDonated ||= found.holders.size > 0;
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
 * The storage a donating step may write over, each array handed out once: `take(leaf)` gives a donated leaf's values
 * the first time it is asked for that leaf (a leaf the state holds twice gets its storage once), else undefined.
 */
export interface Reusable {
  take(leaf: Leaf): FloatArray | undefined;
}

/**
 * The buffers of larch's own leaves that donation has read (see `LeafLife.buffer`): a buffer not among them is no own
 * leaf's, whatever views it. One entry per storage, added when a donating step first meets a leaf over it.
 */
const ownBuffers = new WeakSet<ArrayBufferLike>();

/**
 * The storage a donating step may overwrite: for each donated leaf whose values are contiguous and whose buffer no
 * other leaf of the step's inputs (the donated ones and `otherLeaves`) touches, its dense values; any other leaf gets
 * fresh storage. Storage in a SharedArrayBuffer is never overwritten: other threads, and views through other buffer
 * objects of the same memory (a WebAssembly memory shows a new one after each grow), may see it, and a region of
 * kernel memory (kernelTree) belongs to its own array, not to a view of it.
 *
 * A leaf larch made over storage of its own (its life's `own`, which it views whole: see `views.ts`) shares its
 * buffer with no other such leaf, only perhaps with one of the caller's leaves: it is counted by its life's mark
 * ({@link meetLeaf}), its buffer (read once per storage, then carried in the lives) kept in {@link ownBuffers}, and
 * only the other leaves' buffers are looked up there; one found is not reused, nor is the leaf that shares it. The
 * other leaves that are donated are counted by their buffers in a set, with every leaf they might share one with.
 */
const reusableStorage = (found: HandedOver, otherLeaves: readonly Leaf[]): Reusable => {
  const token = found.token;
  for (const life of found.own) {
    let buffer = life.buffer; // (of every own leaf met, reusable or not: a caller's donated leaf may share it)
    if (buffer === undefined) ownBuffers.add((buffer = life.buffer = life.own!.data.buffer));
    if (life.met === token && isShared(buffer)) life.met = -token;
  }
  const theirs = [...found.holders].filter(isView); // the donated leaves without a life: each once (a set's)
  for (const leaf of found.lived) theirs.push(leaf); // (each once: its life marks whether it was met twice)
  // the buffers of the other leaves: any of larch's own among them (aliased), and which are used twice
  const aliased = new Set<ArrayBufferLike>();
  const used = new Set<ArrayBufferLike>();
  const sharedByTwo = new Set<ArrayBufferLike>();
  const count = theirs.length > 0; // (with none of them donated, only own buffers matter)
  const meet = (leaf: Leaf) => {
    const buffer = leaf.data.buffer;
    if (ownBuffers.has(buffer)) aliased.add(buffer);
    if (!count) return;
    const before = used.size;
    used.add(buffer);
    if (used.size === before) sharedByTwo.add(buffer);
  };
  for (const leaf of theirs) meet(leaf);
  for (const leaf of otherLeaves) meet(leaf); // (a donated leaf given again here: its buffer is larch's own, or counted twice)
  if (aliased.size > 0)
    for (const life of found.own)
      if (aliased.has(life.buffer!)) (life.met = -token), sharedByTwo.add(life.buffer!); // another leaf views it too: neither is reused
  const reusable = new Map<Leaf, FloatArray>(); // the donated leaves that are not larch's own, and may be overwritten
  for (const leaf of theirs) {
    const life = lifeOf(leaf);
    if (life !== undefined ? life.met !== token : found.twice.has(leaf)) continue; // met twice
    if (life !== undefined) life.met = -token; // (taken through the map, if at all)
    const buffer = leaf.data.buffer;
    if (sharedByTwo.has(buffer) || isShared(buffer)) continue; // another leaf (or the same one given twice) uses it
    if (isRowMajor(leaf)) reusable.set(leaf, denseValues(leaf));
  }
  return {
    take: (leaf) => {
      const life = lifeOf(leaf);
      if (life !== undefined && life.met === token) {
        life.met = -token;
        return leaf.data; // (a leaf made over its own storage is dense)
      }
      const values = reusable.get(leaf);
      reusable.delete(leaf);
      return values;
    },
  };
};

/**
 * The storage a donating step may overwrite: the old params' and state's leaves that nothing else in the step's inputs
 * shares, nor anything in `held` (what results computed before the step's pass hold: a chain's head's updates and states).
 */
export const donatedStorage = (params: Flat, grads: Flat, state: unknown, held: readonly unknown[] = [], walk: StateWalk = {}): Reusable => {
  const found = handedOver();
  for (const leaf of params.leaves) meetLeaf(leaf, found.holders, found);
  holdersOf(state, found.holders, found);
  walk.state = state;
  walk.found = found; // markDonated adds the params' holders to it: the state is not walked twice
  const heldLeaves = held.length === 0 ? [] : leavesOf(held);
  return reusableStorage(found, heldLeaves.length === 0 ? grads.leaves : [...grads.leaves, ...heldLeaves]);
};
