/**
 * The kernels' memory: one WebAssembly memory (shared, so it never detaches when it grows), created on first use,
 * which every generated module imports, plus a small allocator of regions in it.
 *
 * A region either holds a resident leaf (from {@link kernelTree}, or a step's result), owned by one Float32Array
 * view (its "owner"): the region, with its owner, is taken back when a step that was donated the leaf is done with it
 * (to be handed out again as a whole), or returned to the allocator when the garbage collector has collected the
 * owner (a FinalizationRegistry; its callbacks run only when the program yields to the event loop). So that a synchronous training loop that does
 * not donate cannot grow the memory until it yields, owner arrays hold at most {@link KernelArena.ownedBudget} bytes
 * at once: past it, new results are plain arrays (the same bits), which the garbage collector reclaims as any other.
 * Or it is a step's scratch, released by the step itself.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { OptimizerError } from "../core/errors.js";
import { denseValues, isRowMajor, leafOf, sizeOf, type Leaf } from "../core/leaf.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import type { PassHelperThread } from "./passThreads.js";
import { WASM_PAGE_BYTES, wasmApi, type WasmMemory } from "./wasm-api.js";

/** The largest memory a kernel module declares: 65536 pages, 4 GiB. */
export const KERNEL_MAX_PAGES = 65536;

/**
 * A new shared WebAssembly memory of at least `bytes` bytes (growable to 4 GiB), or undefined without WebAssembly.
 * @example
 * const arena = new KernelArena(createKernelMemory(1 << 16)!);
 */
export const createKernelMemory = (bytes: number): WasmMemory | undefined => {
  if (wasmApi === undefined) return undefined;
  const initial = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  return new wasmApi.Memory({ initial, maximum: KERNEL_MAX_PAGES, shared: true });
};

/** Byte offset and length (a multiple of 16) of a region of kernel memory. */
export interface Region {
  readonly at: number;
  readonly bytes: number;
}

/** Rounds a byte count up to a multiple of 16 (at least 16: every region starts 16-byte aligned and is distinct). */
const regionBytes = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

/**
 * The kernels' memory and the allocator. Free regions are merged with free neighbours (and given back to the
 * top when they reach it); a request takes a free region of exactly its size, else splits the smallest free region
 * large enough, else grows from the top (new pages cost page faults: growing while free regions would do made
 * pure resident ResNet-50 steps 8x slower).
 */
export class KernelArena {
  /** every SharedArrayBuffer object this memory has shown (a new one after each grow; old ones stay valid) */
  private readonly buffers = new WeakSet<object>();
  private readonly owners = new WeakMap<Float32Array, Region>();
  /** whether any owner array was ever handed out: until then no caller can hold a view of kernel memory */
  private ownersMade = false;
  /** free regions by start (→ bytes), by end (→ start) and by size (→ starts) */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnding = new Map<number, number>();
  private readonly freeOfSize = new Map<number, Set<number>>();
  /** owner arrays released by donating steps, by length, kept to be handed out again (creating one costs ~0.5 µs) */
  private readonly spares = new Map<number, Float32Array[]>();
  private readonly spareSet = new WeakSet<Float32Array>();
  private readonly registry = new FinalizationRegistry<Region>((r) => {
    this.ownedInUse -= r.bytes;
    this.release(r);
  });
  private top = 0;
  /** bytes in regions handed out and not yet released */
  inUse = 0;
  /** the memory is never grown beyond this many bytes (at most 4 GiB, what wasm32 addresses; lower it to cap it) */
  limit = 2 ** 32;
  /** bytes in regions of owner arrays handed out and neither taken back nor collected */
  ownedInUse = 0;
  /**
   * The most bytes owner arrays may hold at once for a step's results: a new one past it is refused (ownedArray gives
   * undefined, and the step writes a plain array instead; kernelTree's placements are counted but never refused). A loop that steps resident trees without donating makes new regions every
   * step, which only the garbage collector's callbacks (run when the program yields) give back: the budget bounds
   * that growth by count, whatever the timing. 1 GiB: a ResNet-50's params and two Adam moments (300 MB) fit thrice.
   */
  ownedBudget = 2 ** 30;

  /** the generated passes' helper thread (kernelThreads(2)), for steps of at least `helperMinValues` values */
  passHelper: PassHelperThread | undefined;
  helperMinValues = 1 << 20;

  constructor(readonly memory: WasmMemory) {}

  /** The memory's current buffer (remembered, so views of it are recognised). */
  buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /** A region of at least `bytes`, or undefined when the memory cannot grow that far (4 GiB at most). */
  allocate(bytes: number): Region | undefined {
    const size = regionBytes(bytes);
    const region = this.exactFit(size) ?? this.bestFit(size) ?? this.fromTop(size);
    if (region === undefined) return this.dropSpares() || this.dropKept() ? this.allocate(bytes) : undefined;
    this.inUse += region.bytes;
    return region;
  }

  private exactFit(size: number): Region | undefined {
    const starts = this.freeOfSize.get(size);
    if (starts === undefined) return undefined;
    const at = starts.values().next().value as number;
    this.unfree(at);
    return { at, bytes: size };
  }

  private fromTop(size: number): Region | undefined {
    const end = this.top + size;
    const have = this.memory.buffer.byteLength;
    if (end > this.limit) return undefined;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / WASM_PAGE_BYTES));
      } catch {
        return undefined; // RangeError: beyond the maximum, or the host refused the memory
      }
    }
    const region = { at: this.top, bytes: size };
    this.top = end;
    return region;
  }

  /** The smallest free region of at least `size` bytes, split: its start is handed out, the rest stays free. */
  private bestFit(size: number): Region | undefined {
    let best: number | undefined;
    for (const bytes of this.freeOfSize.keys()) if (bytes >= size && (best === undefined || bytes < best)) best = bytes;
    if (best === undefined) return undefined;
    const at = this.freeOfSize.get(best)!.values().next().value as number;
    this.unfree(at);
    if (best > size) this.addFree(at + size, best - size);
    return { at, bytes: size };
  }

  private addFree(at: number, bytes: number): void {
    this.freeAt.set(at, bytes);
    this.freeEnding.set(at + bytes, at);
    const starts = this.freeOfSize.get(bytes);
    if (starts) starts.add(at);
    else this.freeOfSize.set(bytes, new Set([at]));
  }

  private unfree(at: number): number {
    const bytes = this.freeAt.get(at)!;
    this.freeAt.delete(at);
    this.freeEnding.delete(at + bytes);
    const starts = this.freeOfSize.get(bytes)!;
    starts.delete(at);
    if (starts.size === 0) this.freeOfSize.delete(bytes);
    return bytes;
  }

  /** Frees a region, merged with the free regions just before and after it; at the top, the top comes down. */
  private freeRegion(r: Region): void {
    let start = r.at;
    let end = r.at + r.bytes;
    const before = this.freeEnding.get(start);
    if (before !== undefined) {
      this.unfree(before);
      start = before;
    }
    if (this.freeAt.has(end)) end += this.unfree(end);
    if (end === this.top) this.top = start;
    else this.addFree(start, end - start);
  }

  /** Releases every spare array's region (they are dead); false when there was none. */
  private dropSpares(): boolean {
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    for (const owner of all) {
      const region = this.owners.get(owner)!;
      this.owners.delete(owner);
      this.spareSet.delete(owner);
      this.registry.unregister(owner);
      this.freeRegion(region);
    }
    return all.length > 0;
  }

  /** The end of the highest region handed out or free (above it, the memory is unused). */
  get end(): number {
    return this.top;
  }

  /** Returns a region to the allocator. */
  release(r: Region): void {
    this.freeRegion(r);
    this.inUse -= r.bytes;
  }

  /**
   * A region of `n` float32 values owned by the returned array: released when the GC has collected it. Undefined
   * when the memory is full, or (unless `placed`: a tree a program places with kernelTree) past the budget.
   */
  ownedArray(n: number, placed = false): Float32Array | undefined {
    const spare = this.spares.get(n)?.pop();
    if (spare !== undefined) {
      this.spareSet.delete(spare);
      const bytes = this.owners.get(spare)!.bytes;
      this.inUse += bytes;
      this.ownedInUse += bytes;
      return spare;
    }
    if (!placed && this.ownedInUse + regionBytes(4 * n) > this.ownedBudget) return undefined; // past the budget: a plain array instead
    const region = this.allocate(4 * n);
    if (region === undefined) return undefined;
    this.ownedInUse += region.bytes;
    const owner = new Float32Array(this.buffer(), region.at, n);
    this.owners.set(owner, region);
    this.ownersMade = true;
    this.registry.register(owner, region, owner);
    return owner;
  }

  /**
   * Takes back an owner array and its region (a donated leaf's, dead now): ownedArray hands both out again. Whatever
   * still views the array (the dead leaf) sees the values written there later.
   */
  releaseOwned(owner: Float32Array): void {
    const region = this.owners.get(owner);
    if (region === undefined || this.isSpare(owner)) return;
    this.inUse -= region.bytes;
    this.ownedInUse -= region.bytes;
    this.spareSet.add(owner);
    const list = this.spares.get(owner.length);
    if (list) list.push(owner);
    else this.spares.set(owner.length, [owner]);
  }

  /** the staging region kept between steps ({@link takeStaging}), and whether a step holds it now */
  private kept: Region | undefined;
  private keptBusy = false;

  /**
   * A region of at least `bytes` for a step's staged inputs, kept from step to step while it is big enough: the
   * owned regions made between two steps (`applyUpdates`' after `update`'s) then never take it in pieces, which made
   * the next staging grow the memory (page faults: 0.4 s for 98 MiB on this machine, every few steps of a ResNet-50
   * `update` + `applyUpdates` loop). A second taker while a step holds it gets a region of its own. Undefined when
   * the memory is full.
   */
  takeStaging(bytes: number): Region | undefined {
    if (this.keptBusy) return this.allocate(bytes);
    if (this.kept !== undefined && this.kept.bytes < regionBytes(bytes)) {
      this.release(this.kept);
      this.kept = undefined;
    }
    this.kept ??= this.allocate(bytes);
    this.keptBusy = this.kept !== undefined;
    return this.kept;
  }

  /** Releases the kept staging region when no step holds it (the memory is full); false when there was none to drop. */
  private dropKept(): boolean {
    if (this.kept === undefined || this.keptBusy) return false;
    this.release(this.kept);
    this.kept = undefined;
    return true;
  }

  /** Gives back a region {@link takeStaging} gave (the kept one stays kept, for the next step). */
  releaseStaging(r: Region): void {
    if (r === this.kept) this.keptBusy = false;
    else this.release(r);
  }

  /** True when `owner` was taken back by releaseOwned and not handed out again. */
  isSpare(owner: Float32Array): boolean {
    return this.spareSet.has(owner);
  }

  /**
   * True when the leaf's storage is kernel memory, as far as a step needs to know: an array this arena made (every
   * leaf of kernelTree and of a resident step's results), or a view of kernel memory of more than 64 bytes. Smaller
   * arrays that are not the arena's own are taken to be plain: reading `.buffer` makes V8 move such an array off
   * its heap (0.1 µs each: a sixth of a 1000-leaf step's time went there), and a step that stages a leaf it could have
   * read in place gives the same bits. Until the arena has made an array of its own, no caller can hold any.
   */
  holds(leaf: Leaf): boolean {
    if (!this.ownersMade) return false;
    const data = leaf.data;
    return (data instanceof Float32Array && this.owners.has(data)) || (data.byteLength > 64 && this.buffers.has(data.buffer));
  }

  /** The byte offset of a float32 leaf's values when they lie row-major in kernel memory ({@link holds}), else undefined. */
  addressOf(leaf: Leaf): number | undefined {
    const data = leaf.data;
    if (!(data instanceof Float32Array) || !this.holds(leaf) || !isRowMajor(leaf)) return undefined;
    return data.byteOffset + 4 * leaf.offset;
  }

  /**
   * The byte offset of a float32 array's values in kernel memory, or undefined for an array elsewhere (or one of at
   * most 64 bytes the arena did not make itself, taken to be plain for the reason {@link holds} gives).
   */
  addressOfArray(x: Float32Array | Float64Array): number | undefined {
    if (!this.ownersMade || !(x instanceof Float32Array)) return undefined;
    return this.owners.has(x) || (x.byteLength > 64 && this.buffers.has(x.buffer)) ? x.byteOffset : undefined;
  }

  /** True when the leaf views the whole of a region this arena owns (so a donating step may write the region). */
  ownsWhole(leaf: Leaf): boolean {
    const data = leaf.data;
    return data instanceof Float32Array && this.owners.has(data) && leaf.offset === 0 && isRowMajor(leaf) && sizeOf(leaf.shape) === data.length;
  }
}

let arena: KernelArena | undefined;
let unavailable = false;

/** The arena, created on first use; undefined when this host has no WebAssembly (or no shared memory). */
export const kernelArena = (): KernelArena | undefined => {
  if (arena !== undefined || unavailable) return arena;
  try {
    const memory = createKernelMemory(WASM_PAGE_BYTES);
    if (memory !== undefined) arena = new KernelArena(memory);
  } catch {
    // e.g. no SharedArrayBuffer in a browser page without cross-origin isolation
  }
  unavailable = arena === undefined;
  return arena;
};

/** Replaces the arena every step uses (tests that need a memory of known contents); returns the previous one. */
export const swapKernelArena = (next: KernelArena | undefined): KernelArena | undefined => {
  const previous = arena;
  arena = next;
  return previous;
};

/**
 * A copy of a tree whose float32 leaves live in the WebAssembly kernels' memory (each a dense Float32Array view
 * there), so that `applyStep` of a compiled chain (`lars()`, `sgd`, `adam`, …) reads them without copying. An
 * optimisation of the first step only: every compiled step writes its new params and state to kernel memory
 * whatever its inputs were (so a loop is resident from its second step on), into the donated storage with
 * `{ donate: true }`, else into new regions, which return to the
 * kernel's memory once the garbage collector has collected their arrays (keep the array, not only a view derived
 * from it, for as long as you use it); a loop that neither donates nor yields gets plain arrays (the same bits) once
 * its results hold 1 GiB of kernel memory (docs/performance.md). Same values, same bits; float64 leaves, and any leaf when the memory is full
 * (4 GiB) or the host has no WebAssembly, are returned as they are. A Left when `tree` is not a valid tree.
 * @example
 * const placed = kernelTree(params); // Right(the same values, each leaf in kernel memory)
 * if (E.isRight(placed)) params = placed.right;
 * // grads written into leaves of another kernelTree are not copied either; with donation nothing is allocated
 * const step = applyStep(lars({ lr: 0.1, momentum: 0.9 }), grads, state, params, { donate: true });
 */
export const kernelTree = (tree: Tree): E.Either<OptimizerError, Tree> => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) return flat;
  const a = kernelArena();
  const leaves = flat.right.leaves.map((leaf) => {
    if (a === undefined || !(leaf.data instanceof Float32Array)) return leaf;
    const owner = a.ownedArray(sizeOf(leaf.shape), true);
    if (owner === undefined) return leaf;
    owner.set(denseValues(leaf));
    return leafOf(owner, leaf.shape);
  });
  return E.right(unflatten(flat.right.def, leaves, flat.right.paths));
};

/**
 * How many threads the compiled steps may use: 2 starts a helper thread (Node's worker_threads, over the same
 * shared memory) that takes tasks from the same table as the calling thread, in steps of at least `minValues`
 * values; 1 stops it. A task is a range of a leaf's pass (every value depends on its own inputs only), a leaf's sum
 * of squares whole, or a 128×128 tile of a matrix product (muon's Newton–Schulz, in products of at least
 * `minValues` multiply-adds; each element summed whole by one thread), so the bits do not change, and the caller
 * never waits for a helper that has not started (a busy core costs nothing beyond the one-thread time).
 * Resolves to the number of threads now in use (1 where there is no WebAssembly or no worker_threads). Anything
 * but 1 or 2 threads, or a `minValues` that is not a non-negative integer, changes nothing and resolves to the count
 * in use.
 * @example
 * await kernelThreads(2); // ResNet-50-sized steps on two cores
 * await kernelThreads(1); // back to one
 */
export const kernelThreads = async (threads: 1 | 2, minValues = 1 << 20): Promise<1 | 2> => {
  const a = kernelArena();
  if (a === undefined) return 1;
  if ((threads !== 1 && threads !== 2) || !(Number.isSafeInteger(minValues) && minValues >= 0)) return a.passHelper === undefined ? 1 : 2;
  a.helperMinValues = minValues;
  if (threads === 1) {
    const helper = a.passHelper;
    a.passHelper = undefined;
    await helper?.close();
    return 1;
  }
  if (a.passHelper === undefined) {
    try {
      const { startPassHelperThread } = await import("./passThreads.js");
      a.passHelper = startPassHelperThread(a.memory);
    } catch {
      return 1; // no worker_threads in this host
    }
  }
  return a.passHelper === undefined ? 1 : 2;
};
