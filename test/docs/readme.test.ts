/** The README's usage example, run as written (with a stream of batches supplied), so the front page cannot rot. */
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import * as larch from "larch";

describe("README", () => {
  it("its usage example runs and moves the params", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const code = /```ts\n(import ndarray[\s\S]*?)```/.exec(readme)![1]!;
    const body = code.replace(/^import .*$/gm, "").replace(/: Tree/g, "");
    const batches = [0, 1, 2].map((k) => ({
      fc: { weight: ndarray(Float32Array.from([0.1, -0.2, 0.3, k]), [2, 2]), bias: ndarray(Float32Array.from([0.5, -0.5]), [2]) },
    }));
    const run = new Function("ndarray", "E", "lars", "applyUpdates", "batches", `${body}; return params;`);
    const params = run(ndarray, E, larch.lars, larch.applyUpdates, batches) as { fc: { weight: larch.Leaf } };
    expect(Array.from(params.fc.weight.data)).not.toEqual([1, 2, 3, 4]);
    expect(Array.from(params.fc.weight.data).every(Number.isFinite)).toBe(true);
  });
});
