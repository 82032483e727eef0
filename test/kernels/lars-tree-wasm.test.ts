import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { larsLeafStepReference, sumSquares4 } from "../../src/kernels/lars-leaf-reference.js";
import { startLarsHelperThread } from "../../src/kernels/lars-leaf-pool.js";
import { createKernelMemory, instantiateLarsLeaf } from "../../src/kernels/lars-leaf-wasm.js";
import { larsTrustRatio } from "../../src/kernels/lars-trust-ratio.js";
import {
  LEAF_RECORD_BYTES, largestFirst, larsTreeStepWasmBatched, larsTreeStepWasmShared, splitWholeLeaves, writeLeafTable,
} from "../../src/kernels/lars-tree-batched.js";
import { larsTreeStepWasm, planTwoThreads, type WasmLeafSlot } from "../../src/kernels/lars-tree-wasm.js";

const MAX_LEAVES = 6;
const MAX_SIZE = 40_000; // above the 16384 at which the elementwise pass is split between threads
const REGIONS = 13;
const memory = createKernelMemory(48 << 20);
const kernel = memory && instantiateLarsLeaf(memory);
if (memory === undefined || kernel === undefined) throw new Error("this host has no WebAssembly");
const helper = startLarsHelperThread(memory, MAX_LEAVES);
if (helper === undefined) throw new Error("could not start the helper thread");
afterAll(() => helper.close());

const WD = 5e-4;
const trust = (pn: number, gn: number) => larsTrustRatio(pn, gn, WD);

/** A leaf: its size and a seed; values are a cheap seeded sequence with full float32 mantissas. */
const leafSpec = fc.record({ n: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: MAX_SIZE })), seed: fc.integer() });

function fill(out: Float32Array, seed: number, scale: number): void {
  let s = seed | 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = ((s >>> 8) / 2 ** 24 - 0.5) * scale;
  }
}

/** Index of the first element whose float32 bits differ (no NaN arises from these finite inputs), or −1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const ai = new Uint32Array(a.slice().buffer);
  const bi = new Uint32Array(b.slice().buffer);
  if (ai.length !== bi.length) return Math.min(ai.length, bi.length);
  for (let i = 0; i < ai.length; i++) if (ai[i] !== bi[i]) return i;
  return -1;
}

describe("larsTreeStepWasm", () => {
  it("gives the same bits on one thread, on two (two phases, batched, shared), and in the JS reference", () => {
    fc.assert(
      fc.property(fc.array(leafSpec, { minLength: 1, maxLength: MAX_LEAVES }), fc.boolean(), fc.boolean(), (leaves, first, nesterov) => {
        // regions: p, g, buf, then outP/outB for: one thread, two threads, batched one thread, batched two threads,
        // shared two threads
        const region = 4 * (MAX_SIZE + 4) * MAX_LEAVES;
        const base = 16 * MAX_LEAVES;
        const at = (r: number, j: number) => base + r * region + j * 4 * (MAX_SIZE + 4);
        const view = (r: number, j: number) => new Float32Array(memory.buffer, at(r, j), leaves[j]!.n);
        leaves.forEach(({ seed }, j) => {
          fill(view(0, j), seed, 0.2);
          fill(view(1, j), seed ^ 0x55aa, 0.02);
          fill(view(2, j), seed ^ 0x0f0f, 0.05);
        });
        const slots = (op: number, ob: number): WasmLeafSlot[] =>
          leaves.map(({ n }, j) => ({ p: at(0, j), g: at(1, j), buf: at(2, j), outP: at(op, j), outB: at(ob, j), n }));
        const k = { learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: WD, nesterov, first, trustRatio: trust };
        larsTreeStepWasm(kernel, slots(3, 4), k, 0);
        larsTreeStepWasm(kernel, slots(5, 6), k, 0, { helper, plan: planTwoThreads(leaves.map((l) => l.n)) });
        const tables = base + REGIONS * region;
        writeLeafTable(kernel, tables, slots(7, 8));
        larsTreeStepWasmBatched(kernel, { at: tables, count: leaves.length }, k, 0);
        const [mine, theirs] = splitWholeLeaves(leaves.map((l) => l.n));
        const all = slots(9, 10);
        const helperTable = tables + LEAF_RECORD_BYTES * mine.length;
        writeLeafTable(kernel, tables, mine.map((j) => all[j]!));
        writeLeafTable(kernel, helperTable, theirs.map((j) => all[j]!));
        larsTreeStepWasmBatched(kernel, { at: tables, count: mine.length }, k, 0,
          { helper, helperTable: { at: helperTable, count: theirs.length } });
        const shared = slots(11, 12);
        writeLeafTable(kernel, tables, largestFirst(leaves.map((l) => l.n)).map((j) => shared[j]!));
        larsTreeStepWasmShared(kernel, { at: tables, count: leaves.length }, k, 0, helper);
        leaves.forEach(({ n }, j) => {
          const p = view(0, j).slice();
          const g = view(1, j).slice();
          const gamma = trust(Math.sqrt(sumSquares4(p)), Math.sqrt(sumSquares4(g)));
          const refP = new Float32Array(n);
          const refB = new Float32Array(n);
          larsLeafStepReference(p, g, view(2, j).slice(), { weightDecay: WD, momentum: 0.9, bufferScale: 1 - 0.1,
            trustRatio: gamma, learningRate: 0.1, first, nesterov }, refP, refB);
          expect(firstDifference(view(3, j), refP)).toBe(-1);
          expect(firstDifference(view(4, j), refB)).toBe(-1);
          expect(firstDifference(view(5, j), refP)).toBe(-1);
          expect(firstDifference(view(6, j), refB)).toBe(-1);
          expect(firstDifference(view(7, j), refP)).toBe(-1);
          expect(firstDifference(view(8, j), refB)).toBe(-1);
          expect(firstDifference(view(9, j), refP)).toBe(-1);
          expect(firstDifference(view(10, j), refB)).toBe(-1);
          expect(firstDifference(view(11, j), refP)).toBe(-1);
          expect(firstDifference(view(12, j), refB)).toBe(-1);
        });
      }),
      { numRuns: 40 },
    );
  });

  it("shared leaves stay exact over many back-to-back steps (helper claiming, cancelled, or late)", () => {
    const sizes = [120_000, 5, 90_000, 64, 7, 60_000, 1, 0, 513, 4096, 3];
    const region = 4 * 120_004;
    const base = 4096;
    const at = (r: number, j: number) => base + r * sizes.length * region + j * region;
    sizes.forEach((n, j) => [0, 1, 2].forEach((r) => fill(new Float32Array(memory.buffer, at(r, j), n), 31 * j + r, 0.1)));
    const slotsTo = (r: number): WasmLeafSlot[] =>
      sizes.map((n, j) => ({ p: at(0, j), g: at(1, j), buf: at(2, j), outP: at(r, j), outB: at(r + 1, j), n }));
    const tableAt = base + 7 * sizes.length * region;
    const k = { learningRate: 0.1, momentum: 0.9, dampening: 0, weightDecay: WD, nesterov: false, first: false };
    writeLeafTable(kernel, tableAt, slotsTo(3));
    larsTreeStepWasmBatched(kernel, { at: tableAt, count: sizes.length }, k, 0);
    const expected = sizes.map((n, j) => [new Float32Array(memory.buffer, at(3, j), n).slice(),
      new Float32Array(memory.buffer, at(4, j), n).slice()] as const);
    const shared = slotsTo(5);
    writeLeafTable(kernel, tableAt, largestFirst(sizes).map((j) => shared[j]!));
    let wrong = 0;
    for (let round = 0; round < 200; round++) {
      sizes.forEach((n, j) => {
        new Float32Array(memory.buffer, at(5, j), n).fill(NaN);
        new Float32Array(memory.buffer, at(6, j), n).fill(NaN);
      });
      larsTreeStepWasmShared(kernel, { at: tableAt, count: sizes.length }, k, 0, helper);
      sizes.forEach((n, j) => {
        if (firstDifference(new Float32Array(memory.buffer, at(5, j), n), expected[j]![0]) !== -1) wrong++;
        if (firstDifference(new Float32Array(memory.buffer, at(6, j), n), expected[j]![1]) !== -1) wrong++;
      });
    }
    expect(wrong).toBe(0);
  });

  it("planTwoThreads gives every leaf's norms one owner and splits big leaves at a multiple of 4", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 50 }), (sizes) => {
        const plan = planTwoThreads(sizes);
        sizes.forEach((n, j) => {
          expect([0, 1]).toContain(plan.normsOwner[j]);
          const split = plan.stepSplit[j]!;
          expect(split === 0 || split === n || (split % 4 === 0 && split > 0 && split < n)).toBe(true);
        });
      }),
    );
  });
});
