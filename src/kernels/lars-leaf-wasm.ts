/**
 * The WebAssembly SIMD LARS leaf kernel (source: lars-leaf.wat, bytes: lars-leaf-wasm-bytes.ts), bound to a
 * shared memory. Pointers are byte offsets into that memory; arrays are float32.
 */
import { larsLeafWasmBase64 } from "./lars-leaf-wasm-bytes.js";
import { WASM_PAGE_BYTES, wasmApi, type WasmMemory, type WasmModule } from "./wasm-api.js";
import type { LarsLeafCoefficients } from "./lars-leaf-reference.js";

/** The largest memory the kernel declares: 65536 pages, 4 GiB. */
export const LARS_LEAF_MAX_PAGES = 65536;

/** One instance of the kernel over `memory`. */
export interface LarsLeafWasm {
  readonly memory: WasmMemory;
  /** Writes Σx² and Σy² (float64, four interleaved accumulators each) at byte offsets out and out + 8. */
  sumSquaresPair(x: number, y: number, n: number, out: number): void;
  /** The elementwise pass (see lars-leaf.wat); flags bit 0 = first step, bit 1 = nesterov. */
  step(
    p: number, g: number, buf: number, outP: number, outB: number, n: number,
    wd: number, m: number, c: number, gamma: number, lr: number, flags: number,
  ): void;
  /**
   * Whole leaves in one call: `table` holds `count` records of six int32 (p, g, buf, outP, outB, n); per leaf the
   * norms, the seed's trust ratio (larsTrustRatio) and the elementwise pass. `scratch`: 16 free bytes.
   */
  larsLeaves(table: number, count: number, wd: number, m: number, c: number, lr: number, flags: number, scratch: number): void;
  /** larsLeaves, keeping leaf j's Σp² and Σg² at byte offset sums + 16·j. */
  larsLeavesSums(table: number, count: number, wd: number, m: number, c: number, lr: number, flags: number, sums: number): void;
  /** Σp² and Σg² of every leaf of a larsLeaves table (sumSquaresPair), leaf j's pair at byte offset out + 16·j. */
  sumSquaresLeaves(table: number, count: number, out: number): void;
  /** The elementwise pass of every leaf of a larsLeaves table, γ of leaf j the float64 at byte offset gammas + 8·j. */
  stepLeaves(table: number, count: number, gammas: number, wd: number, m: number, c: number, lr: number, flags: number): void;
}

let cachedModule: WasmModule | undefined;

/** The compiled module (compiled once per thread), or undefined when the host has no WebAssembly. */
export function larsLeafModule(): WasmModule | undefined {
  if (wasmApi === undefined) return undefined;
  cachedModule ??= new wasmApi.Module(decodeBase64(larsLeafWasmBase64));
  return cachedModule;
}

/** Bytes of a base64 string (atob exists in Node ≥ 16 and in browsers). */
function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}

/** A new shared memory of at least `bytes` bytes for the kernel. */
export function createKernelMemory(bytes: number): WasmMemory | undefined {
  if (wasmApi === undefined) return undefined;
  const initial = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  return new wasmApi.Memory({ initial, maximum: LARS_LEAF_MAX_PAGES, shared: true });
}

/** Instantiates the kernel over `memory` (a shared memory from createKernelMemory). */
export function instantiateLarsLeaf(memory: WasmMemory): LarsLeafWasm | undefined {
  const module = larsLeafModule();
  if (module === undefined || wasmApi === undefined) return undefined;
  const { exports } = new wasmApi.Instance(module, { env: { memory } });
  return {
    memory,
    sumSquaresPair: exports["sumSquaresPair"] as LarsLeafWasm["sumSquaresPair"],
    step: exports["step"] as LarsLeafWasm["step"],
    larsLeaves: exports["larsLeaves"] as LarsLeafWasm["larsLeaves"],
    larsLeavesSums: exports["larsLeavesSums"] as LarsLeafWasm["larsLeavesSums"],
    sumSquaresLeaves: exports["sumSquaresLeaves"] as LarsLeafWasm["sumSquaresLeaves"],
    stepLeaves: exports["stepLeaves"] as LarsLeafWasm["stepLeaves"],
  };
}

/** The kernel's flags word for these coefficients. */
export function larsLeafFlags(k: Pick<LarsLeafCoefficients, "first" | "nesterov">): number {
  return (k.first ? 1 : 0) | (k.nesterov ? 2 : 0);
}
