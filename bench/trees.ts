/**
 * The benchmark trees: ResNet-50's 161 float32 tensors (from ../shared/bench/resnet50-shapes.json), the same
 * scaled 10x down and up (each leaf's size scaled), and 1000 leaves of 10 values. Values are seeded.
 */
import { readFileSync } from "node:fs";
import { sharedBenchFile } from "./shared-files.js";

export interface BenchLeaf {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
}

/** A benchmark tree: leaf layout plus seeded float32 params and grads (one array per leaf). */
export interface BenchTree {
  readonly id: TreeId;
  readonly description: string;
  readonly leaves: readonly BenchLeaf[];
  readonly values: number;
  readonly params: readonly Float32Array[];
  readonly grads: readonly Float32Array[];
}

export const TREE_IDS = ["resnet50", "resnet50/10", "resnet50x10", "leaves1000", "w512x512", "w1024x4096"] as const;
export type TreeId = (typeof TREE_IDS)[number];

function resnet50Leaves(): BenchLeaf[] {
  const spec = JSON.parse(readFileSync(sharedBenchFile("resnet50-shapes.json"), "utf8")) as {
    shapes: { name: string; shape: number[] }[];
  };
  return spec.shapes.map(({ name, shape }) => ({ name, shape, size: shape.reduce((a, b) => a * b, 1) }));
}

/** The leaf layout of a tree (no data). Scaled trees keep names and scale each size, as a flat shape. */
export function treeLeaves(id: TreeId): BenchLeaf[] {
  switch (id) {
    case "resnet50":
      return resnet50Leaves();
    case "resnet50/10":
      return resnet50Leaves().map((l) => {
        const size = Math.max(1, Math.round(l.size / 10));
        return { name: l.name, shape: [size], size };
      });
    case "resnet50x10":
      return resnet50Leaves().map((l) => ({ name: l.name, shape: [l.size * 10], size: l.size * 10 }));
    case "leaves1000":
      return Array.from({ length: 1000 }, (_, i) => ({ name: `leaf${String(i).padStart(4, "0")}`, shape: [10], size: 10 }));
    // one weight matrix [out, in] and its bias, for muon's Newton–Schulz rows: an attention projection, an MLP's up projection
    case "w512x512":
      return [{ name: "weight", shape: [512, 512], size: 512 * 512 }, { name: "bias", shape: [512], size: 512 }];
    case "w1024x4096":
      return [{ name: "weight", shape: [1024, 4096], size: 1024 * 4096 }, { name: "bias", shape: [1024], size: 1024 }];
  }
}

const DESCRIPTIONS: Record<TreeId, string> = {
  resnet50: "ResNet-50, 161 leaves",
  "resnet50/10": "ResNet-50 leaves / 10",
  resnet50x10: "ResNet-50 leaves x 10",
  leaves1000: "1000 leaves x 10 values",
  w512x512: "one 512×512 weight and its bias",
  w1024x4096: "one 1024×4096 weight and its bias",
};

/** mulberry32: a small seeded 32-bit generator, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded pool of 2²⁰ values uniform in [−1, 1); leaves are windows of it (filling 256 M values stays fast). */
const POOL_SIZE = 1 << 20;
const pool = (() => {
  const next = mulberry32(12345);
  return Float32Array.from({ length: 2 * POOL_SIZE }, () => 2 * next() - 1);
})();

/** `size` values: the pool from a seeded start, tiled, times `scale` (rounded to float32). */
function seeded(size: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(size);
  let at = Math.floor(mulberry32(seed)() * POOL_SIZE);
  for (let i = 0; i < size; i += POOL_SIZE) {
    const len = Math.min(POOL_SIZE, size - i);
    out.set(pool.subarray(at, at + len), i);
    at = (at + 7919) % POOL_SIZE;
  }
  for (let i = 0; i < size; i++) out[i]! *= scale;
  return out;
}

/** Builds a tree with seeded params (uniform ±0.1) and grads (uniform ±0.01). */
export function buildTree(id: TreeId): BenchTree {
  const leaves = treeLeaves(id);
  const params = leaves.map((l, i) => seeded(l.size, 1 + 2 * i, 0.1));
  const grads = leaves.map((l, i) => seeded(l.size, 2 + 2 * i, 0.01));
  return {
    id, description: DESCRIPTIONS[id], leaves, params, grads,
    values: leaves.reduce((s, l) => s + l.size, 0),
  };
}
