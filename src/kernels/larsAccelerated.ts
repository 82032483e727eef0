/**
 * `lars()`'s whole step (update and apply) through the WebAssembly kernel, for `applyStep`: the
 * {@link AcceleratedStep} of the chain addWeightDecay(λ), traceMomentum, scaleByTrustRatio(λ), scaleByLr(α).
 *
 * Per step: the float32 params, grads and momentum buffers are copied into the kernel's memory (unless they are
 * there already: {@link kernelTree}); one kernel call computes Σp², Σg² of every leaf; γ is computed here by the
 * transform's own function (so a scaleClip is exact) and every norm is checked before anything is written; a second
 * call runs every leaf's elementwise pass; the new params and buffers are copied out into fresh arrays or into the
 * donated storage (or, for a resident tree, stay in kernel memory). The result is the generic path's, bit for bit
 * (test/kernels/lars-accelerated.test.ts, lars-resident.test.ts).
 * Anything else (float64 leaves, a state it does not recognise, a non-finite norm, a failing schedule, memory that
 * cannot grow) returns undefined, and applyStep runs the generic path, which gives the same bits or the proper Left.
 */
import * as E from "fp-ts/lib/Either.js";
import type { ChainState } from "../core/chain.js";
import { donatedStorage, isDonated } from "../core/donation.js";
import { checkCount, stateOfKind, stateTreeMatching } from "../core/elementwise.js";
import { denseValues, leafOf, sizeOf, type Leaf } from "../core/leaf.js";
import type { AcceleratedStep } from "../core/transform.js";
import { frozenRecord, unflatten, type Flat, type Tree } from "../core/tree.js";
import type { Schedule } from "../schedules/schedule.js";
import type { AddWeightDecayState } from "../transforms/addWeightDecay.js";
import { learningRateAt, type ScaleByLrState } from "../transforms/scaleByLr.js";
import { seedTrustRatio, type TrustRatioState } from "../transforms/scaleByTrustRatio.js";
import type { TraceMomentumState } from "../transforms/traceMomentum.js";
import { trustNumerator } from "../transforms/trustRatio.js";
import { LEAF_RECORD_BYTES } from "./lars-tree-batched.js";
import { kernelArena, type KernelArena, type Region } from "./kernelMemory.js";
import type { LarsHelperThread } from "./lars-leaf-pool.js";
import { larsLeafFlags } from "./lars-leaf-wasm.js";
import { wasmApi } from "./wasm-api.js";

/** The hyper-parameters of `lars()` (already validated by it). */
export interface LarsKernelOptions {
  readonly lr: number | Schedule;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly scaleClip?: readonly [number, number];
}

/** lars()'s chain state, checked as the generic path checks it; undefined for anything the generic path must judge. */
interface LarsState {
  readonly decay: AddWeightDecayState;
  readonly momentum: TraceMomentumState;
  /** the momentum buffers, flattened (undefined when m = 0) */
  readonly trace: Flat | undefined;
  readonly trustCount: number;
  readonly lrCount: number;
}

const larsState = (state: ChainState, grads: Flat, m: number): LarsState | undefined => {
  if (isDonated(state) || !Array.isArray(state) || state.length !== 4) return undefined;
  const decay = stateOfKind<AddWeightDecayState>(state[0], "addWeightDecay");
  const momentum = stateOfKind<TraceMomentumState>(state[1], "traceMomentum");
  const trust = stateOfKind<TrustRatioState>(state[2], "scaleByTrustRatio");
  const lr = stateOfKind<ScaleByLrState>(state[3], "scaleByLr");
  if (E.isLeft(decay) || E.isLeft(momentum) || E.isLeft(trust) || E.isLeft(lr)) return undefined;
  const counts = [momentum.right.count, trust.right.count, lr.right.count].map((c) => checkCount("", c));
  if (!counts.every(E.isRight)) return undefined;
  const trace = m === 0 ? undefined : stateTreeMatching("traceMomentum", momentum.right.trace, grads);
  if (trace !== undefined && E.isLeft(trace)) return undefined;
  return {
    decay: decay.right,
    momentum: momentum.right,
    trace: trace?.right,
    trustCount: trust.right.count,
    lrCount: lr.right.count,
  };
};

/** The chain state after a step, as each member's `finish` builds it (same keys, same frozen records). */
const nextState = (s: LarsState, buffers: Tree | undefined, ratios: { readonly [path: string]: number }, lr: number): ChainState =>
  Object.freeze([
    s.decay,
    buffers === undefined
      ? Object.freeze({ ...s.momentum, count: s.momentum.count + 1 })
      : Object.freeze({ kind: "traceMomentum" as const, count: s.momentum.count + 1, trace: buffers }),
    Object.freeze({ kind: "scaleByTrustRatio" as const, count: s.trustCount + 1, ratios }),
    Object.freeze({ kind: "scaleByLr" as const, count: s.lrCount + 1, lr }),
  ]);

/** Which of `ranges` (byte [start, end) in kernel memory) overlap no other range; empty ranges overlap nothing. */
const exclusiveRanges = (ranges: readonly (readonly [number, number])[]): boolean[] => {
  const order = ranges.map((_, i) => i).filter((i) => ranges[i]![1] > ranges[i]![0]).sort((i, k) => ranges[i]![0] - ranges[k]![0]);
  const exclusive = ranges.map(([lo, hi]) => hi <= lo);
  let reach = -Infinity; // the furthest end of the ranges before
  order.forEach((i, k) => {
    const [lo, hi] = ranges[i]!;
    const next = order[k + 1];
    exclusive[i] = lo >= reach && (next === undefined || ranges[next]![0] >= hi);
    reach = Math.max(reach, hi);
  });
  return exclusive;
};

/** Leaves of at most this many values are copied out of kernel memory by a loop (no view object), larger ones by `set`. */
const SMALL_COPY = 64;

/** Rounds a byte count up to a multiple of 16 (every array starts 16-byte aligned). */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Where one input array is: in kernel memory already (`at` a byte offset), or staged (`at` is its offset in the step's scratch region). */
interface Place {
  readonly resident: boolean;
  readonly at: number;
}

/** Where one leaf's arrays are: inputs p, g, b (b undefined when not read and not in kernel memory), staged outputs. */
interface LeafPlaces {
  readonly p: Place;
  readonly g: Place;
  readonly b: Place | undefined;
  readonly outP: Place | undefined;
  readonly outB: Place | undefined;
}

/**
 * Where each leaf's arrays go, and the scratch region's size (after `headerBytes` for the table, Σ pairs and γ):
 * inputs in kernel memory already are read in place, others staged; staged params get their p′ and b′ in staging
 * of their own (writing over the inputs is slower, see below), or over p and b when `separateOutputs` is false.
 */
const layoutStep = (
  i: { a: KernelArena; params: Flat; grads: Flat; trace: Flat | undefined; first: boolean; sizes: readonly number[]; headerBytes: number },
  separateOutputs: boolean,
): { places: LeafPlaces[]; bytes: number } => {
  let bytes = i.headerBytes;
  const staged = (n: number): Place => {
    bytes += align16(4 * n);
    return { resident: false, at: bytes - align16(4 * n) };
  };
  const resident = (leaf: Leaf | undefined): Place | undefined => {
    const at = leaf === undefined ? undefined : i.a.addressOf(leaf);
    return at === undefined ? undefined : { resident: true, at };
  };
  const places = i.params.leaves.map((leaf, j): LeafPlaces => {
    const n = i.sizes[j]!;
    const p = resident(leaf) ?? staged(n);
    const g = resident(i.grads.leaves[j]) ?? staged(n);
    // the buffer: read from the second step on, in place only beside resident params (staged params are stepped
    // with a staged buffer); where a resident one is matters to donation even when it is not read
    const old = i.trace?.leaves[j];
    const b = old === undefined ? undefined : p.resident ? resident(old) ?? (i.first ? undefined : staged(n)) : i.first ? undefined : staged(n);
    const outP = p.resident ? undefined : separateOutputs ? staged(n) : p;
    const outB = p.resident || old === undefined ? undefined : separateOutputs || b === undefined ? staged(n) : b;
    return { p, g, b, outP, outB };
  });
  return { places, bytes };
};

/** One step's working set, once its inputs are accepted and its scratch region (table, Σ pairs, γ, staging) is allocated. */
interface StepFrame {
  readonly a: KernelArena;
  readonly params: Flat;
  readonly grads: Flat;
  readonly state: ChainState;
  /** the momentum buffers (undefined when m = 0) */
  readonly trace: Flat | undefined;
  readonly first: boolean;
  readonly donate: boolean;
  readonly sizes: readonly number[];
  /** leaf j's record in the table, with its Σ pair and γ, is number at[j] */
  readonly at: readonly number[];
  readonly places: readonly LeafPlaces[];
  readonly scratch: Region;
  /** byte offsets in the scratch region of the Σ pairs and the γs (the table is at its start) */
  readonly sums: number;
  readonly gammas: number;
  readonly heap: Float32Array;
  readonly helper: LarsHelperThread | undefined;
}

/** The byte address of an array: its place in kernel memory, or in the frame's scratch region when staged; 0 for none. */
const address = (f: StepFrame, x: Place | undefined): number => (x === undefined ? 0 : x.resident ? x.at : f.scratch.at + x.at);

/**
 * Lays the step out and allocates its scratch region: staged outputs beside the inputs, or, when memory is short,
 * over them. Undefined when even that does not fit.
 */
const frameStep = (
  a: KernelArena,
  i: { params: Flat; grads: Flat; state: ChainState; trace: Flat | undefined; first: boolean; donate: boolean },
): StepFrame | undefined => {
  const count = i.params.leaves.length;
  const sizes = i.params.leaves.map((leaf) => sizeOf(leaf.shape));
  // largest leaves first when a helper thread shares the step, so that two threads taking the next leaf in turn
  // finish together (each leaf runs whole on one thread: the same bits)
  const helper = a.helperFor(sizes);
  const at = sizes.map((_, j) => j);
  if (helper !== undefined) at.slice().sort((j, k) => sizes[k]! - sizes[j]! || j - k).forEach((j, r) => (at[j] = r));
  const sums = align16(LEAF_RECORD_BYTES * count);
  const gammas = sums + 16 * count;
  const inputs = { a, params: i.params, grads: i.grads, trace: i.trace, first: i.first, sizes, headerBytes: align16(gammas + 8 * count) };
  let { places, bytes } = layoutStep(inputs, true);
  let scratch = a.allocate(bytes);
  if (scratch === undefined) {
    ({ places, bytes } = layoutStep(inputs, false)); // memory is short: staged leaves stepped over their staging
    scratch = a.allocate(bytes);
    if (scratch === undefined) return undefined;
  }
  return { a, ...i, sizes, at, places, scratch, sums, gammas, heap: new Float32Array(a.buffer()), helper };
};

/** Copies the staged inputs into the scratch region and writes the table (resident params' outputs come later). */
const stageInputs = (f: StepFrame): Int32Array => {
  const copyIn = (x: Place | undefined, leaf: Leaf | undefined) => {
    if (x !== undefined && !x.resident && leaf !== undefined) f.heap.set(denseValues(leaf), address(f, x) / 4);
  };
  const records = new Int32Array(f.a.buffer(), f.scratch.at, 6 * f.sizes.length);
  f.places.forEach(({ p, g, b, outP, outB }, j) => {
    copyIn(p, f.params.leaves[j]);
    copyIn(g, f.grads.leaves[j]);
    if (!f.first) copyIn(b, f.trace?.leaves[j]);
    const r = 6 * f.at[j]!;
    records[r] = address(f, p);
    records[r + 1] = address(f, g);
    records[r + 2] = address(f, b);
    records[r + 3] = address(f, outP);
    records[r + 4] = address(f, outB);
    records[r + 5] = f.sizes[j]!;
  });
  return records;
};

/** The regions of kernel memory a resident step writes: leaf j's new p and b (or none for a staged leaf). */
interface ResidentOutputs {
  readonly owners: readonly ({ readonly p: Float32Array; readonly b: Float32Array | undefined } | undefined)[];
  /** regions handed out for this step, taken back if it fails */
  readonly fresh: readonly Float32Array[];
  /** donated inputs' arrays, taken back once the step is done */
  readonly dead: readonly Float32Array[];
  /** whether some output is written over its donated input (memory was short) */
  readonly overInputs: boolean;
}

/**
 * Resident params get p′ and b′ in new regions (writing over the inputs is slower: measured 30% on a whole ResNet-50
 * step); a donated input that is a whole region no other input overlaps returns to the allocator after the step,
 * so that donated steps alternate between two sets of regions. Undefined (with nothing left allocated) when memory
 * is short even for that.
 */
const residentOutputs = (f: StepFrame, records: Int32Array): ResidentOutputs | undefined => {
  const { a, sizes, trace } = f;
  const ranges: [number, number][] = [];
  if (f.donate)
    f.places.forEach((leaf, j) => {
      for (const x of [leaf.p, leaf.g, leaf.b]) if (x?.resident) ranges.push([x.at, x.at + 4 * sizes[j]!]);
    });
  const exclusive = new Set(exclusiveRanges(ranges).flatMap((free, i) => (free ? [ranges[i]![0]] : [])));
  const fresh: Float32Array[] = [];
  const dead: Float32Array[] = [];
  let overInputs = false;
  const output = (old: Leaf, x: Place | undefined, n: number): Float32Array | undefined => {
    const owner = a.ownedArray(n);
    if (owner !== undefined) fresh.push(owner);
    if (!(f.donate && x?.resident && a.ownsWhole(old) && (n === 0 || exclusive.has(x.at)))) return owner;
    if (owner !== undefined) dead.push(old.data as Float32Array);
    else overInputs = true; // memory is short: over the donated input itself
    return owner ?? (old.data as Float32Array);
  };
  const owners = f.places.map(({ p, b }, j) => {
    if (!p.resident) return undefined;
    const n = sizes[j]!;
    const ownerP = output(f.params.leaves[j]!, p, n);
    const ownerB = trace === undefined ? undefined : output(trace.leaves[j]!, b, n);
    if (ownerP === undefined || (trace !== undefined && ownerB === undefined)) return null;
    records[6 * f.at[j]! + 3] = ownerP.byteOffset;
    records[6 * f.at[j]! + 4] = ownerB?.byteOffset ?? 0;
    return { p: ownerP, b: ownerB };
  });
  if (!owners.includes(null)) return { owners: owners as ResidentOutputs["owners"], fresh, dead, overInputs };
  for (const owner of fresh) a.releaseOwned(owner);
  return undefined;
};

/**
 * Runs the kernel over every leaf and returns γ of each leaf in leaf order, or undefined when a norm is not finite.
 * One pass per leaf (norms, the kernel's γ, the step) when `fused`: every output is fresh memory, so a non-finite
 * norm found afterwards leaves only fresh memory written. Otherwise two passes: every norm, checked, and γ by
 * scaleByTrustRatio's function (`gammaOf`), before any output is written.
 */
const runKernel = (
  f: StepFrame,
  k: { wd: number; m: number; c: number; lr: number; flags: number; fused: boolean },
  gammaOf: (pNorm: number, gNorm: number) => number,
): number[] | undefined => {
  const { a, helper, at } = f;
  const { wd, m, c, lr, flags } = k;
  const count = f.sizes.length;
  const table = f.scratch.at;
  const sums = table + f.sums;
  const gammas = table + f.gammas;
  const share = (work: "norms" | "steps" | "fused", tasks: number[], leaf: (r: number) => void) => {
    if (helper === undefined) return leaf(-1);
    helper.tasks.set(tasks);
    helper.shareLeaves(count, leaf, work);
  };
  const record = (r: number) => table + LEAF_RECORD_BYTES * Math.max(r, 0);
  const one = (r: number) => (r < 0 ? count : 1); // r = −1: every leaf in one call
  if (k.fused)
    share("fused", [table, count, wd, m, c, lr, flags, sums], (r) =>
      a.kernel.larsLeavesSums(record(r), one(r), wd, m, c, lr, flags, sums + 16 * Math.max(r, 0)));
  else share("norms", [table, count, sums], (r) => a.kernel.sumSquaresLeaves(record(r), one(r), sums + 16 * Math.max(r, 0)));
  const sumsOf = new Float64Array(a.buffer(), sums, 2 * count);
  const gammaAt = new Float64Array(a.buffer(), gammas, count);
  const ratios: number[] = []; // γ of leaf j, in leaf order
  for (let j = 0; j < count; j++) {
    const pNorm = Math.sqrt(sumsOf[2 * at[j]!]!);
    const gNorm = Math.sqrt(sumsOf[2 * at[j]! + 1]!);
    if (!(Number.isFinite(pNorm) && Number.isFinite(gNorm))) return undefined; // the generic path's NonFinite Left
    const gamma = gammaOf(pNorm, gNorm); // (the fused kernel's γ, the same bits)
    gammaAt[at[j]!] = gamma;
    ratios.push(gamma);
  }
  if (!k.fused)
    share("steps", [table, count, gammas, wd, m, c, lr, flags], (r) =>
      a.kernel.stepLeaves(record(r), one(r), gammas + 8 * Math.max(r, 0), wd, m, c, lr, flags));
  return ratios;
};

/** The new params and buffers: resident outputs as they are, staged ones copied out (into donated storage where the generic path would write). */
const collectOutputs = (f: StepFrame, resident: ResidentOutputs): { params: Tree; buffers: Tree | undefined } => {
  let reusable: Map<Leaf, unknown> | undefined; // computed on first use: only staged leaves need it
  const donatedStorageOf = (old: Leaf) => (f.donate ? (reusable ??= donatedStorage(f.params, f.grads, f.state)).get(old) : undefined);
  const leafAt = (old: Leaf, owner: Float32Array | undefined, staged: Place | undefined, n: number): Leaf => {
    if (owner !== undefined) return leafOf(owner, old.shape);
    // (donatedStorage never offers storage in kernel memory, a SharedArrayBuffer: views of it could alias unseen)
    const donated = donatedStorageOf(old) as Float32Array | undefined;
    const storage = donated ?? new Float32Array(n);
    const from = address(f, staged) / 4;
    if (n > SMALL_COPY) storage.set(f.heap.subarray(from, from + n));
    else for (let k = 0; k < n; k++) storage[k] = f.heap[from + k]!; // (no view object for a few values)
    return leafOf(storage, old.shape);
  };
  const { owners } = resident;
  const params = f.params.leaves.map((leaf, j) => leafAt(leaf, owners[j]?.p, f.places[j]!.outP, f.sizes[j]!));
  const buffers = f.trace?.leaves.map((leaf, j) => leafAt(leaf, owners[j]?.b, f.places[j]!.outB, f.sizes[j]!));
  return {
    params: unflatten(f.params.def, params, f.params.paths),
    buffers: buffers && unflatten(f.grads.def, buffers, f.grads.paths),
  };
};

/**
 * The accelerated step of `lars(o)`, or undefined when this host has no WebAssembly or the options are not ones
 * the kernel takes. `o` must be valid options (lars() attaches this only after its own checks).
 * Leaves already in kernel memory ({@link kernelTree}) are read where they are, and a resident params leaf gets its
 * new value (and its momentum buffer's) in new regions of kernel memory; with donation the old regions are
 * released after the step (when they are whole regions that no other input overlaps), so that steps alternate
 * between two sets of regions. Other leaves are staged: copied in, stepped into staging, copied out.
 * @example
 * const larsChain = chain(addWeightDecay(λ), traceMomentum({ momentum: m }), scaleByTrustRatio({ weightDecay: λ }), scaleByLr(α));
 * const opt = { ...larsChain, accelerated: larsAccelerated({ lr: α, momentum: m, dampening: 0, weightDecay: λ, nesterov: false }) };
 */
export const larsAccelerated = (o: LarsKernelOptions): AcceleratedStep<ChainState> | undefined => {
  if (wasmApi === undefined) return undefined;
  const numerator = trustNumerator(o.scaleClip ? { scaleClip: o.scaleClip } : {});
  if (E.isLeft(numerator)) return undefined;
  const { weightDecay: wd, momentum: m, nesterov } = o;
  const c = 1 - o.dampening;
  const gammaOf = (pNorm: number, gNorm: number) => seedTrustRatio(numerator.right, wd, pNorm, gNorm);
  return (grads, state, params, donate) => {
    if (!params.leaves.every((leaf) => leaf.data instanceof Float32Array)) return undefined; // grads: same dtypes
    const s = larsState(state, grads, m);
    if (s === undefined) return undefined;
    const alpha = learningRateAt(o.lr, s.lrCount);
    if (E.isLeft(alpha)) return undefined;
    const a = kernelArena();
    if (a === undefined) return undefined;
    const first = s.momentum.count === 0;
    const f = frameStep(a, { params, grads, state, trace: s.trace, first, donate });
    if (f === undefined) return undefined;
    const records = stageInputs(f);
    const resident = residentOutputs(f, records);
    // the seed's γ fused into the kernel's pass unless a scaleClip needs the transform's own, or an output is
    // written over its input (then every norm must be checked before anything is written)
    const fused = o.scaleClip === undefined && resident !== undefined && !resident.overInputs;
    const lr = alpha.right;
    const ratios = resident && runKernel(f, { wd, m, c, lr, flags: larsLeafFlags({ first, nesterov }), fused }, gammaOf);
    if (resident === undefined || ratios === undefined) {
      // memory too short, or a non-finite norm: nothing visible was written; the generic path decides
      for (const owner of resident?.fresh ?? []) a.releaseOwned(owner);
      a.release(f.scratch);
      return undefined;
    }
    const out = collectOutputs(f, resident);
    a.release(f.scratch);
    for (const owner of resident.dead) a.releaseOwned(owner);
    return [out.params, nextState(s, out.buffers, frozenRecord(params.paths, ratios), lr)] as const;
  };
};
