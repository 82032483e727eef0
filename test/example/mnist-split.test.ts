/** The MNIST example's data: the package's 10,000 digits and the seeded, stratified 8,000 / 2,000 split. */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { CLASSES, HELD_OUT, PIXELS, loadDigits, mnistSplit } from "../../examples/mnist/dataset.js";
import { mulberry32 } from "../../examples/shared/prng.js";
import { heldOutCounts, stratifiedSplit } from "../../examples/shared/stratifiedSplit.js";

const countBy = (labels: ArrayLike<number>) => {
  const counts = new Array<number>(CLASSES).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i] as number]!++;
  return counts;
};

describe("the mnist package's digits", () => {
  const all = loadDigits();

  it("are the 10,000 digits of the MNIST test set, grouped by class, pixels in [0, 1]", () => {
    expect(all.n).toBe(10_000);
    expect(all.x.length).toBe(10_000 * PIXELS);
    expect(countBy(all.y)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let sorted = true;
    for (let i = 1; i < all.n; i++) sorted &&= all.y[i]! >= all.y[i - 1]!;
    expect(sorted).toBe(true);
    let inRange = true;
    for (const v of all.x) inRange &&= v >= 0 && v <= 1;
    expect(inRange).toBe(true);
  });
});

describe("mnistSplit", () => {
  const all = loadDigits();
  const split = mnistSplit();

  it("holds out 2,000 and trains on 8,000, disjoint and together every digit once", () => {
    expect(split.train.n).toBe(8000);
    expect(split.heldOut.n).toBe(HELD_OUT);
    const seen = new Set([...split.trainRows, ...split.heldOutRows]);
    expect(seen.size).toBe(10_000);
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(9999);
  });

  it("is stratified: each class's held-out count is within one of its 20 % share", () => {
    const total = countBy(all.y);
    countBy(split.heldOut.y).forEach((count, d) => expect(Math.abs(count - 0.2 * total[d]!)).toBeLessThan(1));
  });

  it("copies each digit's pixels and label from its row", () => {
    for (const i of [0, 1, 777, 1999]) {
      const row = split.heldOutRows[i]!;
      expect(split.heldOut.y[i]).toBe(all.y[row]);
      expect(split.heldOut.x.subarray(i * PIXELS, (i + 1) * PIXELS)).toEqual(all.x.subarray(row * PIXELS, (row + 1) * PIXELS));
    }
  });

  it("is the same on every run and every machine (its first rows are pinned), and another seed gives another", () => {
    const again = mnistSplit(2017, all); // made afresh, not the cached one
    expect(again.trainRows).toEqual(split.trainRows);
    expect(again.heldOutRows).toEqual(split.heldOutRows);
    expect(split.heldOutRows.slice(0, 6)).toEqual([1405, 9111, 6714, 7042, 3701, 8060]);
    expect(split.trainRows.slice(0, 6)).toEqual([6510, 8473, 4911, 27, 7208, 5170]);
    expect(countBy(split.heldOut.y)).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    expect(mnistSplit(1).heldOutRows).not.toEqual(split.heldOutRows);
  });
});

describe("heldOutCounts", () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 12 }), fc.double({ min: 0, max: 1, noNaN: true })], { numRuns: 40 })(
    "totals exactly the held-out size, each class within one of its quota",
    (sizes, fraction) => {
      const total = sizes.reduce((a, b) => a + b, 0);
      const heldOut = Math.round(fraction * total);
      const counts = heldOutCounts(new Map(sizes.map((n, c) => [c, n])), heldOut);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(total === 0 ? 0 : heldOut);
      sizes.forEach((n, c) => {
        const quota = total === 0 ? 0 : (heldOut * n) / total;
        expect(Math.abs(counts.get(c)! - quota)).toBeLessThan(1);
        expect(counts.get(c)!).toBeLessThanOrEqual(n);
      });
    },
  );
});

describe("stratifiedSplit", () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 200 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })], { numRuns: 40 })(
    "partitions the rows, holds out the asked number, and depends only on the seed",
    (labels, seed) => {
      const heldOut = Math.round(0.3 * labels.length);
      const [train, test] = stratifiedSplit(labels, heldOut, mulberry32(seed));
      expect(test.length).toBe(heldOut);
      expect([...train, ...test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
      expect(stratifiedSplit(labels, heldOut, mulberry32(seed))).toEqual([train, test]);
    },
  );
});
