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
import { kernelArena, type KernelArena } from "./kernelMemory.js";
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
  return (grads, state, params, donate) => {
    if (!params.leaves.every((leaf) => leaf.data instanceof Float32Array)) return undefined; // grads: same dtypes
    const s = larsState(state, grads, m);
    if (s === undefined) return undefined;
    const alpha = learningRateAt(o.lr, s.lrCount);
    if (E.isLeft(alpha)) return undefined;
    const a = kernelArena();
    if (a === undefined) return undefined;
    const first = s.momentum.count === 0;
    const trace = s.trace;
    const count = params.leaves.length;

    // where the inputs are (in kernel memory already, or staged in a scratch region after the table); a params
    // leaf in kernel memory keeps its outputs there, others are copied out of staging
    const sizes = params.leaves.map((leaf) => sizeOf(leaf.shape));
    // leaf j's record in the table, with its Σ pair and γ, is number at[j]: largest leaves first, so that two
    // threads taking the next leaf in turn finish together (each leaf runs whole on one thread: the same bits)
    const helper = a.helperFor(sizes);
    const at = sizes.map((_, j) => j);
    if (helper !== undefined) at.slice().sort((i, k) => sizes[k]! - sizes[i]! || i - k).forEach((j, r) => (at[j] = r));
    const sums = align16(LEAF_RECORD_BYTES * count);
    const gammas = sums + 16 * count;
    const inputs = { a, params, grads, trace, first, sizes, headerBytes: align16(gammas + 8 * count) };
    let { places, bytes } = layoutStep(inputs, true);
    let scratch = a.allocate(bytes);
    if (scratch === undefined) {
      ({ places, bytes } = layoutStep(inputs, false)); // memory is short: staged leaves stepped over their staging
      scratch = a.allocate(bytes);
      if (scratch === undefined) return undefined;
    }
    const table = scratch.at;
    const address = (x: Place | undefined): number => (x === undefined ? 0 : x.resident ? x.at : table + x.at);

    // copy the staged inputs in; the table (resident params' outP and outB come later)
    const heap = new Float32Array(a.buffer());
    const copyIn = (x: Place | undefined, leaf: Leaf | undefined) => {
      if (x !== undefined && !x.resident && leaf !== undefined) heap.set(denseValues(leaf), address(x) / 4);
    };
    const records = new Int32Array(a.buffer(), table, 6 * count);
    places.forEach(({ p, g, b, outP, outB }, j) => {
      copyIn(p, params.leaves[j]);
      copyIn(g, grads.leaves[j]);
      if (!first) copyIn(b, trace?.leaves[j]);
      const r = 6 * at[j]!;
      records[r] = address(p);
      records[r + 1] = address(g);
      records[r + 2] = address(b);
      records[r + 3] = address(outP);
      records[r + 4] = address(outB);
      records[r + 5] = sizes[j]!;
    });
    // resident params: p′ and b′ into new regions (writing over the inputs is slower: measured 30% on a whole
    // ResNet-50 step); a donated input that is a whole region no other input overlaps returns to the allocator
    // after the step, so that donated steps alternate between two sets of regions
    const ranges: [number, number][] = [];
    if (donate)
      places.forEach((leaf, j) => {
        for (const x of [leaf.p, leaf.g, leaf.b]) if (x?.resident) ranges.push([x.at, x.at + 4 * sizes[j]!]);
      });
    const exclusive = new Set(exclusiveRanges(ranges).flatMap((free, i) => (free ? [ranges[i]![0]] : [])));
    const fresh: Float32Array[] = [];
    const dead: Float32Array[] = [];
    let overInputs = false;
    const output = (old: Leaf, x: Place | undefined, n: number): Float32Array | undefined => {
      const owner = a.ownedArray(n);
      if (owner !== undefined) fresh.push(owner);
      if (!(donate && x?.resident && a.ownsWhole(old) && (n === 0 || exclusive.has(x.at)))) return owner;
      if (owner !== undefined) dead.push(old.data as Float32Array);
      else overInputs = true; // memory is short: over the donated input itself
      return owner ?? (old.data as Float32Array);
    };
    const fail = (): undefined => {
      for (const owner of fresh) a.releaseOwned(owner);
      a.release(scratch!);
      return undefined;
    };
    const owners = places.map(({ p, b }, j) => {
      if (!p.resident) return undefined;
      const n = sizes[j]!;
      const ownerP = output(params.leaves[j]!, p, n);
      const ownerB = trace === undefined ? undefined : output(trace.leaves[j]!, b, n);
      if (ownerP === undefined || (trace !== undefined && ownerB === undefined)) return null;
      records[6 * at[j]! + 3] = ownerP.byteOffset;
      records[6 * at[j]! + 4] = ownerB?.byteOffset ?? 0;
      return { p: ownerP, b: ownerB };
    });
    if (owners.includes(null)) return fail();

    // One pass per leaf (norms, the kernel's γ, the step) when every output is fresh memory (new regions, staging)
    // and γ is the seed's own: the norms are checked afterwards, and a non-finite one leaves only fresh memory
    // written. Otherwise two passes: every norm, checked, and γ by scaleByTrustRatio's function (a scaleClip),
    // before any output is written.
    const flags = larsLeafFlags({ first, nesterov });
    const lr = alpha.right;
    const fused = o.scaleClip === undefined && !overInputs;
    const share = (work: "norms" | "steps" | "fused", tasks: number[], leaf: (r: number) => void) => {
      if (helper === undefined) return leaf(-1);
      helper.tasks.set(tasks);
      helper.shareLeaves(count, leaf, work);
    };
    const record = (r: number) => table + LEAF_RECORD_BYTES * Math.max(r, 0);
    const one = (r: number) => (r < 0 ? count : 1); // r = −1: every leaf in one call
    if (fused)
      share("fused", [table, count, wd, m, c, lr, flags, table + sums], (r) =>
        a.kernel.larsLeavesSums(record(r), one(r), wd, m, c, lr, flags, table + sums + 16 * Math.max(r, 0)));
    else share("norms", [table, count, table + sums], (r) => a.kernel.sumSquaresLeaves(record(r), one(r), table + sums + 16 * Math.max(r, 0)));
    const sumsOf = new Float64Array(a.buffer(), table + sums, 2 * count);
    const gammaOf = new Float64Array(a.buffer(), table + gammas, count);
    const ratios: number[] = []; // γ of leaf j, in leaf order
    for (let j = 0; j < count; j++) {
      const pNorm = Math.sqrt(sumsOf[2 * at[j]!]!);
      const gNorm = Math.sqrt(sumsOf[2 * at[j]! + 1]!);
      if (!(Number.isFinite(pNorm) && Number.isFinite(gNorm))) return fail(); // the generic path's NonFinite Left
      const gamma = seedTrustRatio(numerator.right, wd, pNorm, gNorm); // (the fused kernel's γ, the same bits)
      gammaOf[at[j]!] = gamma;
      ratios.push(gamma);
    }
    if (!fused)
      share("steps", [table, count, table + gammas, wd, m, c, lr, flags], (r) =>
        a.kernel.stepLeaves(record(r), one(r), table + gammas + 8 * Math.max(r, 0), wd, m, c, lr, flags));

    // staged results copied out (into donated storage where the generic path would write)
    let reusable: Map<Leaf, unknown> | undefined; // computed on first use: only staged leaves need it
    const donatedStorageOf = (old: Leaf) => (donate ? (reusable ??= donatedStorage(params, grads, state)).get(old) : undefined);
    const leafAt = (old: Leaf, owner: Float32Array | undefined, staged: Place | undefined, n: number): Leaf => {
      if (owner !== undefined) return leafOf(owner, old.shape);
      // (donatedStorage never offers storage in kernel memory, a SharedArrayBuffer: views of it could alias unseen)
      const donated = donatedStorageOf(old) as Float32Array | undefined;
      const storage = donated ?? new Float32Array(n);
      const from = address(staged) / 4;
      if (n > SMALL_COPY) storage.set(heap.subarray(from, from + n));
      else for (let k = 0; k < n; k++) storage[k] = heap[from + k]!; // (no view object for a few values)
      return leafOf(storage, old.shape);
    };
    const newParams = params.leaves.map((leaf, j) => leafAt(leaf, owners[j]?.p, places[j]!.outP, sizes[j]!));
    const buffers = trace && unflatten(grads.def, trace.leaves.map((leaf, j) => leafAt(leaf, owners[j]?.b, places[j]!.outB, sizes[j]!)), grads.paths);
    a.release(scratch);
    for (const owner of dead) a.releaseOwned(owner);
    return [unflatten(params.def, newParams, params.paths), nextState(s, buffers, frozenRecord(params.paths, ratios), lr)] as const;
  };
};
