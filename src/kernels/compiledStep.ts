/**
 * Whole `applyStep`s of any chain in the expression form through generated WebAssembly ({@link passModule}): the
 * {@link CompiledMath} the public `applyStep` hands the core. Per step, for float32 trees: every member binds every
 * leaf (its norms, its checks, its state storage) before anything is written, except the check of g and p for NaN
 * and ±Inf, which the pass makes as it reads them (a flag sends the step, nothing handed out, to the JavaScript path
 * and its Left); arrays already in kernel memory (`kernelTree`, or an earlier step's results) are read and written
 * where they are, others are staged (copied into a scratch region, leaf by leaf while the helper thread already runs
 * the leaves copied); one call of the chain's generated pass per leaf. Every leaf gets its new value and its new state
 * in new regions of kernel memory, wherever its params were (so from the second step of a loop on, only the fresh
 * gradients are copied in). With donation, a donated leaf that is a whole region no other input views is written
 * over in place (a store into a line just read fetches nothing: the memory-bound pass takes 10–45% less time on one
 * thread here, bench/experiments/inPlace.ts), except by a chain that refuses NaN and ±Inf, which would have to read g
 * and p once more first: its donated regions are taken back once the step is done, so its steps alternate between
 * two sets of regions. Past the arena's owned budget (a loop that neither donates nor yields to the event loop, whose
 * dead results the garbage collector cannot hand back) results are fresh arrays, or the donated ones. Float64 trees,
 * a host without WebAssembly, a module the host refuses to compile, and a scratch region that does not fit run the
 * generated JavaScript instead: the same bits (test/kernels/compiled-step.test.ts).
 *
 * Knows nothing of any particular transformation: it reads the members' bodies only.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { loopSource } from "../core/compileJs.js";
import { bindLeaves, freshStorage, mathRunner, type BoundLeaf, type LeafSums } from "../core/elementwise.js";
import { byBodies, type ByBodies } from "../core/byBodies.js";
import type { Body } from "../core/expression.js";
import { denseValues, sizeOf, type FloatArray, type Leaf } from "../core/leaf.js";
import { madeLeaf } from "../core/views.js";
import type { Flat } from "../core/tree.js";
import type { CompiledMath, MemberMath } from "../core/transform.js";
import { passLayout, passModule, readsGradient, TASK_INTS, type PassLayout, type PassMode } from "./compileWasm.js";
import { kernelArena, type KernelArena } from "./kernelMemory.js";
import { wasmProduct } from "./matmulWasm.js";
import { wasmApi, type WasmModule } from "./wasm-api.js";

/** One chain's compiled pass: the module (for helper threads) and its instance over the kernel's memory. */
export interface CompiledPass {
  readonly module: WasmModule;
  readonly layout: PassLayout;
  /** whether the pass checks its u and p for NaN and ±Inf, storing a flag for each range (see {@link passModule}) */
  readonly checks: boolean;
  /** `flag`: where a checking pass stores 1 if some u or p of the range is not finite, else 0 */
  readonly pass: (record: number, lo: number, hi: number, flag: number) => void;
  readonly sumsq: (x: number, n: number, out: number) => void;
  readonly sumsq2: (x: number, y: number, n: number, out: number) => void;
}

/** Compiled modules by chain (null: the host refused it), and their instances per kernel memory. */
const modules = new Map<string, WasmModule | null>();
const instances = new WeakMap<object, Map<string, CompiledPass>>();
/** The same instances by their bodies' identity (see `core/byBodies.ts`), per kernel memory: a step's lookup builds no source. */
const byIdentity = new WeakMap<object, ByBodies<CompiledPass>>();

/**
 * The pass of these members over float32 leaves, compiled once per distinct chain of bodies (its generated
 * JavaScript is the key) and instantiated once per kernel memory, or undefined when this host cannot compile it.
 * With `checks`, the pass flags non-finite inputs (see {@link passModule}).
 * @example
 * const pass = compiledPass(arena, math.map((m) => m.body), "apply");
 */
export const compiledPass = (a: KernelArena, bodies: readonly (Body | null)[], mode: PassMode, checks = false): CompiledPass | undefined => {
  const memory = a.memory;
  let known = byIdentity.get(memory);
  if (known === undefined) byIdentity.set(memory, (known = byBodies()));
  const kind = `${mode}${checks ? " checks" : ""}`;
  const seen = known.get(bodies, kind);
  if (seen !== undefined) return seen;
  const made = compiledPassOfSource(a, bodies, mode, checks);
  if (made !== undefined) known.set(bodies, kind, made);
  return made;
};

/** {@link compiledPass} by the pass's source: bodies parsed apart but alike share one module and instance. */
const compiledPassOfSource = (a: KernelArena, bodies: readonly (Body | null)[], mode: PassMode, checks: boolean): CompiledPass | undefined => {
  const key = `${mode}${checks ? " checks" : ""}\n${loopSource(bodies, "float32", mode)}`;
  const memory = a.memory;
  let mine = instances.get(memory);
  const hit = mine?.get(key);
  if (hit !== undefined) return hit;
  let module = modules.get(key);
  if (module === undefined) {
    try {
      module = new wasmApi!.Module(passModule(bodies, mode, checks));
    } catch {
      module = null; // no SIMD, or a host that refuses to compile: the JavaScript loop
    }
    if (modules.size > 256) modules.clear();
    modules.set(key, module);
  }
  if (module === null) return undefined;
  const { exports } = new wasmApi!.Instance(module, { env: { memory } });
  const made = { module, checks, layout: passLayout(bodies), pass: exports["pass"] as CompiledPass["pass"], sumsq: exports["sumsq"] as CompiledPass["sumsq"], sumsq2: exports["sumsq2"] as CompiledPass["sumsq2"] };
  if (mine === undefined) instances.set(memory, (mine = new Map()));
  if (mine.size > 256) mine.clear();
  mine.set(key, made);
  return made;
};

/** Rounds a byte count up to a multiple of 16 (every staged array starts 16-byte aligned). */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** The arrays a step's passes touch, by where they are: in kernel memory already, or staged (read in, written out). */
class Placement {
  /** staged arrays: their offset in the staging after `base`, whether read, whether written, whether copied in */
  readonly staged = new Map<FloatArray, { at: number; read: boolean; write: boolean; copied?: boolean }>();
  bytes: number;
  constructor(
    private readonly a: KernelArena,
    base: number,
  ) {
    this.bytes = base;
  }

  /** A reference to the array: its address in kernel memory (≥ 0), or −1 − (its staging offset). */
  place(x: FloatArray, read: boolean, write: boolean): number {
    const at = this.a.addressOfArray(x);
    if (at !== undefined) return at;
    const seen = this.staged.get(x);
    if (seen !== undefined) {
      seen.read ||= read;
      seen.write ||= write;
      return -1 - seen.at;
    }
    const slot = { at: this.bytes, read, write };
    this.staged.set(x, slot);
    this.bytes += align16(4 * x.length);
    return -1 - slot.at;
  }

  /** The address of a reference, once the staging is at byte `start` of kernel memory. */
  static address(ref: number, start: number): number {
    return ref >= 0 ? ref : start - 1 - ref;
  }

  /** Copies the staged arrays that are read into kernel memory (the staging at `start`), those not copied yet. */
  copyIn(heap: Float32Array, start: number): void {
    for (const x of this.staged.keys()) this.copyInOne(heap, start, x);
  }

  /** Whether some staged array that is read has not been copied in yet. */
  pending(): boolean {
    for (const slot of this.staged.values()) if (slot.read && slot.copied !== true) return true;
    return false;
  }

  /** Copies one array into its staging slot, if it is staged, read and not copied yet. */
  copyInOne(heap: Float32Array, start: number, x: FloatArray): void {
    const slot = this.staged.get(x);
    if (slot === undefined || !slot.read || slot.copied === true) return;
    heap.set(x, (start + slot.at) / 4);
    slot.copied = true;
  }

  /** fresh outputs: staged, and made only when copied out (one allocation and one copy, no zero-filling first) */
  readonly fresh: { at: number; n: number; made: (x: Float32Array) => void }[] = [];

  /** A reference to a staged output of n values that is a new array, handed to `made` by copyOut. */
  placeFresh(n: number, made: (x: Float32Array) => void): number {
    const at = this.bytes;
    this.fresh.push({ at, n, made });
    this.bytes += align16(4 * n);
    return -1 - at;
  }

  /** Copies the staged arrays that are written out of kernel memory, and makes the fresh ones. */
  copyOut(heap: Float32Array, start: number): void {
    for (const [x, slot] of this.staged) if (slot.write) x.set(heap.subarray((start + slot.at) / 4, (start + slot.at) / 4 + x.length));
    for (const f of this.fresh) f.made(heap.slice((start + f.at) / 4, (start + f.at) / 4 + f.n));
  }
}

/**
 * Which of these byte ranges [start, end) overlap no other (empty ranges overlap nothing): a donated region may be
 * taken back only when nothing else the step was given views it.
 */
const exclusive = (ranges: readonly (readonly [number, number])[]): boolean[] => {
  const order = ranges.map((_, i) => i).filter((i) => ranges[i]![1] > ranges[i]![0]).sort((i, k) => ranges[i]![0] - ranges[k]![0]);
  const out = ranges.map(([lo, hi]) => hi <= lo);
  let reach = -Infinity;
  order.forEach((i, k) => {
    const [lo, hi] = ranges[i]!;
    const next = order[k + 1];
    out[i] = lo >= reach && (next === undefined || ranges[next]![0] >= hi);
    reach = Math.max(reach, hi);
  });
  return out;
};

/** Values per task of a pass shared between two threads (a multiple of 4): small enough to balance, large enough to cost nothing. */
const CHUNK = 1 << 16;

/**
 * Inputs still to be copied in when a batch of tasks starts, leaf by leaf: `copy(j)` stages leaf j's (and says how
 * many values the leaf has), after which the tasks before `ready[j]` (in table order) have all they read.
 */
interface Staging {
  readonly leaves: number;
  copy(j: number): number;
  readonly ready: ArrayLike<number>;
}

/** Publish the copied tasks at least every this many values (fewer wake-ups of a waiting helper). */
const PUBLISH_VALUES = 1 << 16;

/**
 * Runs tasks (six int32 each: module id, function, its arguments) written at byte address `table`: on this thread,
 * or shared with the helper thread when there is one and the step is big enough. With `staging`, this thread first
 * copies the inputs in, leaf by leaf, while the helper runs the tasks whose inputs are in (the copy overlaps the
 * passes), then both take what is left.
 */
const runTasks = (a: KernelArena, pass: CompiledPass, table: number, count: number, values: number, staging?: Staging): void => {
  const helper = a.passHelper;
  const t = new Int32Array(a.buffer());
  const run = (i: number) => {
    const o = table / 4 + TASK_INTS * i;
    const f = t[o + 1];
    if (f === 0) pass.pass(t[o + 2]!, t[o + 3]!, t[o + 4]!, t[o + 5]!);
    else if (f === 1) pass.sumsq(t[o + 2]!, t[o + 3]!, t[o + 4]!);
    else pass.sumsq2(t[o + 2]!, t[o + 3]!, t[o + 4]!, t[o + 5]!);
  };
  const copyAll = () => {
    for (let j = 0; j < (staging?.leaves ?? 0); j++) staging!.copy(j);
  };
  if (helper === undefined || count < 2 || values < a.helperMinValues) {
    copyAll();
    for (let i = 0; i < count; i++) run(i);
  } else if (staging === undefined) helper.share(table, count, run);
  else
    helper.share(table, count, run, (publish) => {
      // publish what is copied every PUBLISH_VALUES values or so (share publishes the whole batch when this returns)
      let since = 0;
      for (let j = 0; j < staging.leaves; j++) {
        since += staging.copy(j);
        if (since >= PUBLISH_VALUES) (publish(staging.ready[j]!), (since = 0));
      }
    });
};

/** The module id a task names: the helper's id for the module (0 without a helper). */
const moduleId = (a: KernelArena, pass: CompiledPass): number => a.passHelper?.idOf(pass.module) ?? 0;

/**
 * The incoming updates, gradients and params of a step, placed: where each leaf's are (staged ones copied in, an
 * array given twice, as u and g are when the update is the gradient, staged once), and Σx² of each, computed by the
 * pass module's `sumsq` (norm.ts's order, so the bits of JavaScript's), each leaf's sum whole on one thread. The
 * first sum a member asks for is computed alone; any later one missing computes, for every leaf, each kind asked for
 * so far that it lacks: both sums of a leaf in one loop (`sumsq2`) when both are asked for (LARS's ‖p‖ and ‖g‖).
 * Without params (an update given none, whose bodies read none) the params' references are the gradients', never read.
 */
const placeInputs = (a: KernelArena, pass: CompiledPass, bodies: readonly (Body | null)[], updates: Flat, grads: Flat, params: Flat | undefined) => {
  // g is copied in only when the pass reads it or it is the updates; else its sums, if a member asks, are JavaScript's
  const placeG = updates === grads || readsGradient(bodies);
  const count = grads.leaves.length;
  const header = align16(2 * 8 * count + 4 * TASK_INTS * count); // Σ of grads and params, then their tasks
  const inputs = new Placement(a, header);
  let values = 0;
  const refs = grads.leaves.map((leaf, i) => {
    const g = denseValues(leaf);
    const u = updates === grads ? g : denseValues(updates.leaves[i]!);
    const p = params === undefined ? g : denseValues(params.leaves[i]!);
    values += g.length;
    const uRef = inputs.place(u, true, false);
    const gRef = placeG ? inputs.place(g, true, false) : uRef; // (never loaded when not placed)
    return { g, u, p, uRef, gRef, pRef: inputs.place(p, true, false) };
  });
  const region = a.takeStaging(inputs.bytes);
  if (region === undefined) return undefined;
  // the staged inputs are copied in by the first batch of tasks that reads them, leaf by leaf (see runTasks)
  let heap = new Float32Array(a.buffer());
  const copyLeaf = (j: number): number => {
    if (heap.buffer !== a.memory.buffer) heap = new Float32Array(a.buffer()); // grown since
    const r = refs[j]!;
    inputs.copyInOne(heap, region.at, r.u);
    inputs.copyInOne(heap, region.at, r.g);
    inputs.copyInOne(heap, region.at, r.p);
    return r.g.length;
  };
  // leaf j's Σg² at float64 2j of the region, its Σp² at 2j + 1 (a sumsq2 writes both); whether each is computed
  const out = new Float64Array(a.buffer(), region.at, 2 * count);
  const done = { grads: new Uint8Array(count), params: new Uint8Array(count) };
  const asked = { grads: false, params: false };
  const table = region.at + 16 * count;
  const compute = (from: number, to: number) => {
    const t = new Int32Array(a.buffer());
    const id = moduleId(a, pass);
    let o = table / 4;
    const ready = new Int32Array(to - from); // tasks through leaf from + k
    for (let j = from; j < to; j++) {
      const r = refs[j]!;
      const g = asked.grads && done.grads[j] === 0;
      const p = asked.params && done.params[j] === 0;
      ready[j - from] = (o - table / 4) / TASK_INTS + (g || p ? 1 : 0);
      if (!g && !p) continue;
      const gAt = Placement.address(r.gRef, region.at);
      const pAt = Placement.address(r.pRef, region.at);
      t[o] = id;
      if (g && p) t.set([3, gAt, pAt, r.g.length, region.at + 16 * j], o + 1);
      else t.set([1, g ? gAt : pAt, r.g.length, region.at + 16 * j + (g ? 0 : 8)], o + 1);
      o += TASK_INTS;
      if (g) done.grads[j] = 1;
      if (p) done.params[j] = 1;
    }
    runTasks(a, pass, table, (o - table / 4) / TASK_INTS, values, inputs.pending() ? { leaves: to - from, copy: (k) => copyLeaf(from + k), ready } : undefined);
  };
  const sums: LeafSums = (i, of) => {
    if (of === "grads" && !placeG) return undefined; // computed in JavaScript from g: the same bits
    if (done[of][i] === 0) {
      const first = !asked.grads && !asked.params;
      asked[of] = true;
      if (first) compute(i, i + 1);
      else compute(0, count);
    }
    return out[2 * i + (of === "grads" ? 0 : 1)]!;
  };
  return { region, refs, sums, values, copyLeaf, pending: () => inputs.pending() };
};

/** What the pass needs of a bound leaf: its size, and each member's scalars and state arrays (read, written, …). */
type PassLeaf = { readonly input: { readonly size: number }; readonly bindings: BoundLeaf["bindings"] };

/**
 * How {@link runBound} ended: the outputs written; no room for its scratch region (nothing run); or (a checking pass)
 * a NaN or ±Inf among the inputs, the staged outputs not copied out.
 */
type BoundRun = "done" | "no room" | "not finite";

/**
 * One step, once the leaves are bound: records, the state arrays and outputs placed, the passes, the outputs copied
 * out. A checking pass gets a flag word per task; with `refuses`, the flags are read after the passes, and a set one
 * ends the step "not finite", its outputs not copied out.
 */
const runBound = (
  a: KernelArena,
  pass: CompiledPass,
  inputs: NonNullable<ReturnType<typeof placeInputs>>,
  bound: readonly PassLeaf[],
  outs: (FloatArray | undefined)[],
  refuses = false,
): BoundRun => {
  const { layout } = pass;
  const chunks = bound.reduce((n, b) => n + Math.ceil(b.input.size / CHUNK), 0);
  const recordsBytes = align16(layout.recordBytes * bound.length);
  const tableBytes = align16(4 * TASK_INTS * chunks);
  const flagsBytes = pass.checks ? align16(4 * chunks) : 0; // one int32 per task
  const rest = new Placement(a, recordsBytes + tableBytes + flagsBytes);
  const refs = bound.map(({ input, bindings }, i) => {
    if (input.size === 0) return undefined;
    const arrays: number[] = [];
    for (const b of bindings) for (let k = 0; k < b.arrays.length; k++) arrays.push(rest.place(b.arrays[k]!, k % 2 === 0, k % 2 === 1));
    const out = outs[i]; // undefined: a new array, made when copied out
    return { out: out === undefined ? rest.placeFresh(input.size, (x) => (outs[i] = x)) : rest.place(out, false, true), arrays };
  });
  const scratch = a.allocate(rest.bytes);
  if (scratch === undefined) return "no room";
  const buffer = a.buffer();
  const heap = new Float32Array(buffer);
  rest.copyIn(heap, scratch.at);
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  const at = inputs.region.at;
  const table = scratch.at + recordsBytes;
  const flags = table + tableBytes;
  const id = moduleId(a, pass);
  let tasks = 0;
  const ready = new Int32Array(bound.length); // tasks through leaf i
  refs.forEach((r, i) => {
    ready[i] = tasks + (r === undefined ? 0 : Math.ceil(bound[i]!.input.size / CHUNK));
    if (r === undefined) return;
    const record = scratch.at + layout.recordBytes * i;
    const { uRef, gRef, pRef } = inputs.refs[i]!;
    const w = record / 4;
    i32[w] = Placement.address(uRef, at);
    i32[w + 1] = Placement.address(gRef, at);
    i32[w + 2] = Placement.address(pRef, at);
    i32[w + 3] = Placement.address(r.out, scratch.at);
    for (let k = 0; k < r.arrays.length; k++) i32[w + 4 + k] = Placement.address(r.arrays[k]!, scratch.at);
    let s = (record + layout.scalarsAt) / 8;
    for (const b of bound[i]!.bindings) for (const v of b.scalars) f64[s++] = v;
    const n = bound[i]!.input.size;
    for (let lo = 0; lo < n; lo += CHUNK) {
      const o = table / 4 + TASK_INTS * tasks++;
      i32[o] = id;
      i32[o + 1] = 0;
      i32[o + 2] = record;
      i32[o + 3] = lo;
      i32[o + 4] = Math.min(n, lo + CHUNK);
      i32[o + 5] = pass.checks ? flags + 4 * (tasks - 1) : 0;
    }
  });
  // (inputs all in kernel memory or copied in already: nothing to wait for, no ready count to publish)
  runTasks(a, pass, table, tasks, inputs.values, inputs.pending() ? { leaves: bound.length, copy: inputs.copyLeaf, ready } : undefined);
  const flagged = refuses && pass.checks && new Int32Array(a.buffer(), flags, tasks).some((f) => f !== 0);
  if (!flagged) rest.copyOut(new Float32Array(a.buffer()), scratch.at);
  a.release(scratch);
  return flagged ? "not finite" : "done";
};

/** The bodies of a step's members (null: the identity this step). */
const bodiesOf = (math: readonly MemberMath[]) => math.map((m) => m.body);

/**
 * Steps of fewer than 4,096 values, or of leaves of fewer than 256 values on average, run the generated JavaScript:
 * placing leaves, writing records and calling into WebAssembly cost more than they save there. Measured with the
 * float32 pass (bench/experiments/crossover.ts, donated sgd and adam, one thread, median µs a step, JS / WebAssembly):
 * 1 leaf of 1,000 values 60 / 54 and 70 / 65; 10 of 1,000: 100 / 66 and 202 / 94; 10 of 6,000: 400 / 113 and
 * 706 / 157; 1000 of 60: 1,467 / 2,654 and 2,202 / 3,941; 1000 of 256: 2,659 / 3,561 (a tie within the noise).
 */
const minValues = { at: 1 << 12 };

/** Sets the smallest step (in values) the WebAssembly takes, returning the previous; for tests. */
export const compiledMinValues = (at: number): number => {
  const previous = minValues.at;
  minValues.at = at;
  return previous;
};

/**
 * Whether the WebAssembly takes a step over these leaves: float32 (the step's other trees have the same dtypes),
 * and large enough ({@link minValues}).
 */
const takes = (leaves: readonly Leaf[]): boolean => {
  let values = 0;
  // a quick no for small steps from the storage lengths (no sizeOf per leaf); a view with a zero stride may hold
  // more values than its storage, and a no only runs the JavaScript: the same bits
  for (let i = 0; i < leaves.length; i++) values += leaves[i]!.data.length;
  if (values < minValues.at || (minValues.at > 0 && values < 256 * leaves.length)) return false;
  values = 0;
  for (const leaf of leaves) {
    if (!(leaf.data instanceof Float32Array)) return false; // float64
    values += sizeOf(leaf.shape);
  }
  return values >= minValues.at && !(minValues.at > 0 && values < 256 * leaves.length);
};

/** The executor of the expression form over the kernels' WebAssembly memory, and of matrix products ({@link wasmProduct}). */
export const wasmMath: CompiledMath = {
  matrixProduct: wasmProduct,
  update(math, trees, grads) {
    const bodies = bodiesOf(math);
    if (bodies.every((b) => b === null)) return undefined; // u′ = u: nothing to compile
    const params = trees.params;
    if (params === undefined && bodies.some((b) => b?.readsParams === true)) return undefined; // the JavaScript's Left
    if (!takes(trees.updates.leaves) || !takes(grads.leaves) || (params !== undefined && !takes(params.leaves))) return undefined;
    // the update of the gradient itself: the pass checks g and p for NaN and ±Inf, offered to the bindings' checks
    // (which then skip their read), and a find refuses the step when one of them took the offer
    const checks = trees.updates === grads;
    const finiteInPass = checks ? { asked: false } : undefined;
    const a = kernelArena();
    const pass = a && compiledPass(a, bodies, "update", checks);
    if (a === undefined || pass === undefined) return undefined;
    const inputs = placeInputs(a, pass, bodies, trees.updates, grads, params);
    if (inputs === undefined) return undefined;
    try {
      // u′ and the new state in owned regions of kernel memory (within the arena's budget), so that the next step
      // and applyUpdates read them in place; past the budget, or empty, plain arrays
      const fresh: Float32Array[] = [];
      const owned = (n: number): Float32Array | undefined => {
        const x = n > 0 ? a.ownedArray(n) : undefined;
        if (x !== undefined) fresh.push(x);
        return x;
      };
      const bound = bindLeaves(math, trees, grads, (old) => owned(sizeOf(old.shape)) ?? freshStorage(old), inputs.sums, finiteInPass);
      if (E.isLeft(bound)) {
        for (const x of fresh) a.releaseOwned(x);
        return bound;
      }
      // undefined: a new array, made when the pass's output is copied out
      const outs: (FloatArray | undefined)[] = bound.right.map((b) => owned(b.input.size));
      const refuses = finiteInPass?.asked === true;
      const ran = runBound(a, pass, inputs, bound.right, outs, refuses);
      if (ran === "not finite" || (ran === "no room" && refuses)) {
        // nothing was handed out: the JavaScript path runs the step with every check (its NonFinite Left)
        for (const x of fresh) a.releaseOwned(x);
        return undefined;
      }
      if (ran === "no room") {
        const run = mathRunner(math, "update"); // the scratch region does not fit: the JavaScript loop, same bits
        bound.right.forEach((b, i) => run(b, denseValues(trees.updates.leaves[i]!), (outs[i] ??= new Float32Array(b.input.size))));
      }
      for (let i = 0; i < outs.length; i++) outs[i] ??= new Float32Array(0); // empty leaves
      // the params' shapes (equal to the updates'): larch's frozen ones once the params came from a step, shared
      return E.right(outs.map((out, i) => madeLeaf(out!, (params ?? trees.updates).leaves[i]!.shape)));
    } finally {
      a.releaseStaging(inputs.region);
    }
  },
  applyUpdates(params, updates) {
    return addUpdates(params, updates);
  },
  applyStep(math, trees, grads, donated, held = []) {
    const bodies = bodiesOf(math);
    if (bodies.every((b) => b === null)) return undefined; // p′ = p + g: nothing to compile
    if (!takes(trees.params.leaves)) return undefined;
    // a step from the gradient itself: the pass checks g and p for NaN and ±Inf, offered to the bindings' checks
    // (which then skip their read); where it would write over donated storage (past the owned budget), they are
    // checked before it instead (their sums)
    const checks = trees.updates === grads;
    const finiteInPass = checks ? { asked: false } : undefined;
    const a = kernelArena();
    const pass = a && compiledPass(a, bodies, "apply", checks);
    if (a === undefined || pass === undefined) return undefined;
    const inputs = placeInputs(a, pass, bodies, trees.updates, grads, trees.params); // u: g, or a chain's head's updates
    if (inputs === undefined) return undefined;
    try {
      // every non-empty result goes to kernel memory (budget permitting), so the next step reads it in place
      const resident = trees.params.leaves.map((leaf) => sizeOf(leaf.shape) > 0);
      const fresh: Float32Array[] = []; // regions handed out for this step
      const olds: Leaf[] = []; // the old state leaves the step replaces
      let overwrites = false; // whether the pass writes into donated storage
      // a donated leaf that is a whole region of kernel memory is overwritten in place (the pass reads every old
      // value before it stores a new one there), unless some other input of the step views it, or the chain refuses
      // NaN and ±Inf: it would have to check g and p before writing over them, a pass more, as costly as the new
      // regions it saves (its check asks before a member takes storage; one that asked later binds again below)
      const taken = new Set<Float32Array>();
      let takeOver = donated !== undefined;
      const inPlace = (leaf: Leaf): Float32Array | undefined => {
        if (!takeOver || finiteInPass?.asked === true || !a.ownsWhole(leaf)) return undefined;
        const x = leaf.data as Float32Array;
        if (taken.has(x)) return undefined; // (given twice: not exclusive, so bound again below)
        taken.add(x);
        return x;
      };
      const reuse = (leaf: Leaf): FloatArray | undefined => {
        const x = donated?.take(leaf);
        overwrites ||= x !== undefined;
        return x;
      };
      const storage = (old: Leaf, i: number): FloatArray => {
        olds.push(old);
        const owned = resident[i] ? inPlace(old) ?? a.ownedArray(sizeOf(old.shape)) : undefined;
        if (owned !== undefined) return taken.has(owned) || fresh.push(owned), owned;
        return reuse(old) ?? freshStorage(old);
      };
      // the leaves bound (their state storage chosen), then the params' new storage
      const plan = () => {
        const bound = bindLeaves(math, trees, grads, storage, inputs.sums, finiteInPass);
        if (E.isLeft(bound)) return bound;
        // undefined: a new array, made when the pass's output is copied out
        const outs = trees.params.leaves.map((leaf, i): FloatArray | undefined => {
          const owned = resident[i] ? inPlace(leaf) ?? a.ownedArray(sizeOf(leaf.shape)) : undefined;
          if (owned !== undefined && !taken.has(owned)) fresh.push(owned);
          return owned ?? reuse(leaf);
        });
        return E.right({ bound: bound.right, outs });
      };
      const inputLeaves = () => [...grads.leaves, ...(trees.updates === grads ? [] : trees.updates.leaves), ...trees.params.leaves, ...olds, ...held];
      let planned = plan();
      if (E.isRight(planned) && taken.size > 0 && (finiteInPass?.asked === true || !viewedOnce(a, taken, inputLeaves()))) {
        // every result in a new region instead (a binding replaces the last)
        for (const owner of fresh.splice(0)) a.releaseOwned(owner);
        taken.clear();
        olds.length = 0;
        takeOver = false;
        planned = plan();
      }
      if (E.isLeft(planned)) {
        for (const owner of fresh) a.releaseOwned(owner);
        return planned;
      }
      const { bound, outs } = planned.right;
      overwrites ||= taken.size > 0;
      // nothing may be written over before a NaN is found: then Σg² and Σp² of every leaf first (finite where the sum is)
      const finite = (i: number) => Number.isFinite(inputs.sums(i, "grads")!) && Number.isFinite(inputs.sums(i, "params")!);
      const refuses = finiteInPass?.asked === true;
      const ran = refuses && overwrites && !bound.every((_, i) => finite(i)) ? "not finite" : runBound(a, pass, inputs, bound, outs, refuses);
      if (ran === "not finite" || (ran === "no room" && refuses)) {
        // nothing was handed out: the JavaScript path runs the step with every check (its NonFinite Left)
        for (const owner of fresh) a.releaseOwned(owner);
        return undefined;
      }
      if (ran === "no room") {
        const run = mathRunner(math, "apply"); // the scratch region does not fit: the JavaScript loop, same bits
        bound.forEach((b, i) => run(b, trees.updates === grads ? b.input.grads : denseValues(trees.updates.leaves[i]!), (outs[i] ??= freshStorage(trees.params.leaves[i]!))));
      }
      for (let i = 0; i < outs.length; i++) outs[i] ??= freshStorage(trees.params.leaves[i]!); // empty leaves
      if (donated !== undefined)
        takeBack(a, [...trees.params.leaves, ...olds].filter((leaf) => !taken.has(leaf.data as Float32Array)), inputLeaves()); // (those written over hold the results)
      return E.right(trees.params.leaves.map((leaf, i) => madeLeaf(outs[i]!, leaf.shape)));
    } finally {
      a.releaseStaging(inputs.region);
    }
  },
};

/**
 * A step's input leaves that are in kernel memory (each once per place it was given in: a leaf given twice overlaps
 * itself), with the owner array `pick` names for each (or undefined) and whether its range overlaps no other input's.
 */
const ownersAlone = (a: KernelArena, inputs: readonly Leaf[], pick: (leaf: Leaf) => Float32Array | undefined) => {
  const ranges: [number, number][] = [];
  const owners: (Float32Array | undefined)[] = [];
  for (const leaf of inputs) {
    const at = a.addressOfArray(leaf.data);
    if (at === undefined) continue;
    ranges.push([at, at + leaf.data.byteLength]);
    owners.push(pick(leaf));
  }
  const alone = exclusive(ranges);
  return owners.map((owner, i) => ({ owner, alone: alone[i]! }));
};

/**
 * Whether each of these owner arrays is viewed by exactly one of `inputs` (a step's every input leaf), whose range no
 * other input overlaps: only then may the step write over it.
 */
const viewedOnce = (a: KernelArena, owners: ReadonlySet<Float32Array>, inputs: readonly Leaf[]): boolean => {
  const seen = new Set<Float32Array>();
  for (const { owner, alone } of ownersAlone(a, inputs, (leaf) => (owners.has(leaf.data as Float32Array) ? (leaf.data as Float32Array) : undefined))) {
    if (owner === undefined) continue;
    if (!alone || seen.has(owner)) return false;
    seen.add(owner);
  }
  return seen.size === owners.size;
};

/** After a donated step: the donated leaves that are whole regions of kernel memory no other input views go back to the arena. */
const takeBack = (a: KernelArena, donatedLeaves: readonly Leaf[], inputs: readonly Leaf[]): void => {
  const candidates = new Set(donatedLeaves.filter((leaf) => a.ownsWhole(leaf)));
  if (candidates.size === 0) return;
  for (const { owner, alone } of ownersAlone(a, inputs, (leaf) => (candidates.has(leaf) ? (leaf.data as Float32Array) : undefined)))
    if (alone && owner !== undefined) a.releaseOwned(owner);
};

/** The one member of `applyUpdates`' pass: u′ = u, which the "apply" mode stores as p + u′ (one f32x4.add). */
const ADD: Body = { states: [], scalars: [], next: [], out: { k: "u" }, readsParams: false };

/** The binding of {@link ADD} at every leaf: no scalars, no state. */
const NO_BINDING = [{ scalars: [], arrays: [] }] as const;

/**
 * `applyUpdates` of large float32 trees: p′ = f32(p + u) leaf by leaf, the bits of the JavaScript loop, as the pass
 * of the one-member chain {@link ADD} in "apply" mode (u and p read in place when in kernel memory, else staged; on
 * two threads after kernelThreads(2)). Each p′ is an owned region of kernel memory while the arena's budget allows,
 * so the next step reads it in place; else, and for empty leaves, a plain array. Undefined (nothing written) for
 * float64, small trees ({@link takes}), no WebAssembly, or memory that does not fit.
 */
const addUpdates = (params: Flat, updates: Flat): Leaf[] | undefined => {
  if (!takes(params.leaves)) return undefined; // the updates have the params' shapes and dtypes (flattenLike)
  const a = kernelArena();
  const pass = a && compiledPass(a, [ADD], "apply");
  if (a === undefined || pass === undefined) return undefined;
  const inputs = placeInputs(a, pass, [ADD], updates, updates, params); // u is its own g (never read)
  if (inputs === undefined) return undefined;
  try {
    const bound = params.leaves.map((leaf): PassLeaf => ({ input: { size: sizeOf(leaf.shape) }, bindings: NO_BINDING }));
    const outs = bound.map(({ input: { size } }): FloatArray | undefined => (size > 0 ? a.ownedArray(size) : undefined));
    if (runBound(a, pass, inputs, bound, outs) !== "done") {
      for (const x of outs) if (x !== undefined) a.releaseOwned(x as Float32Array);
      return undefined; // the scratch region does not fit: the JavaScript loop, same bits
    }
    return params.leaves.map((leaf, i) => madeLeaf(outs[i] ?? new Float32Array(0), leaf.shape));
  } finally {
    a.releaseStaging(inputs.region);
  }
};
