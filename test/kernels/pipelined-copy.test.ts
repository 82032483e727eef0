/**
 * The helper thread and a batch whose inputs the calling thread is still copying in (`share` with `prepare`): the
 * helper runs a task only once its inputs are published. Here the caller writes each input slowly, after the batch is
 * offered, so a helper that ran ahead would sum zeros.
 */
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import { kernelThreads } from "larch";
import { parseBody } from "../../src/core/expression.js";
import { sumOfSquares } from "../../src/core/norm.js";
import { compiledPass } from "../../src/kernels/compiledStep.js";
import { TASK_INTS } from "../../src/kernels/compileWasm.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";

afterAll(() => kernelThreads(1));

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** Two threads, and a pass module (for its `sumsq`) known to the helper. */
const twoThreads = async () => {
  expect(await kernelThreads(2, 0)).toBe(2);
  const a = kernelArena()!;
  const helper = a.passHelper!;
  const body = parseBody("scale", [], { u: "c * u" });
  if (E.isLeft(body)) throw new Error(body.left.message);
  const pass = compiledPass(a, [body.right], "update")!;
  return { a, helper, pass, id: helper.idOf(pass.module) };
};

describe("a batch shared while its inputs are copied in", () => {
  it("the helper waits for each task's inputs: every sum is of the values written, none of the zeros before them", async () => {
    const { a, helper, pass, id } = await twoThreads();
    const leaves = 8, n = 4099;
    const region = a.allocate(leaves * 4 * (n + 3) + 16 * leaves + 4 * TASK_INTS * leaves)!;
    try {
      const x = (j: number) => region.at + j * 4 * (n + 3); // 16-byte aligned: n + 3 = 4102 floats is not, so round
      const at = (j: number) => 16 * Math.ceil(x(j) / 16);
      const outs = region.at + leaves * 4 * (n + 3);
      const table = outs + 16 * leaves;
      const data = Array.from({ length: leaves }, (_, j) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 97 * j) + 1));
      new Float32Array(a.buffer()).fill(0, region.at / 4, outs / 4);
      const t = new Int32Array(a.buffer());
      for (let j = 0; j < leaves; j++) t.set([id, 1, at(j), n, outs + 16 * j, 0], table / 4 + TASK_INTS * j);
      const run = (i: number) => {
        const o = table / 4 + TASK_INTS * i;
        pass.sumsq(t[o + 2]!, t[o + 3]!, t[o + 4]!);
      };
      let published = 0;
      helper.share(table, leaves, run, (publish) => {
        for (let j = 0; j < leaves; j++) {
          spin(3); // the helper, woken already, would reach task j long before its values arrive
          new Float32Array(a.buffer()).set(data[j]!, at(j) / 4);
          publish((published = j + 1));
        }
      });
      expect(published).toBe(leaves);
      const sums = new Float64Array(a.buffer(), outs, 2 * leaves);
      for (let j = 0; j < leaves; j++) expect(sums[2 * j]).toBe(sumOfSquares(data[j]!));
    } finally {
      a.release(region);
    }
  });

  it("a prepare that throws lets the batch finish, then the error goes on; the next batch runs", async () => {
    const { a, helper, pass, id } = await twoThreads();
    const region = a.allocate(16 + 64 + 4 * TASK_INTS * 4)!;
    try {
      new Float32Array(a.buffer(), region.at, 4).set([1, 2, 3, 4]);
      const outs = region.at + 16;
      const table = outs + 64;
      const t = new Int32Array(a.buffer());
      for (let j = 0; j < 4; j++) t.set([id, 1, region.at, 4, outs + 16 * j, 0], table / 4 + TASK_INTS * j);
      const run = (i: number) => pass.sumsq(t[table / 4 + TASK_INTS * i + 2]!, 4, t[table / 4 + TASK_INTS * i + 4]!);
      const sums = () => Array.from({ length: 4 }, (_, j) => new Float64Array(a.buffer(), outs + 16 * j, 1)[0]);
      new Float64Array(a.buffer(), outs, 8).fill(0);
      expect(() => helper.share(table, 4, run, () => { throw new Error("copy failed"); })).toThrow("copy failed");
      expect(sums()).toEqual([30, 30, 30, 30]); // every task ran before the error went on
      new Float64Array(a.buffer(), outs, 8).fill(0);
      helper.share(table, 4, run, (publish) => publish(4));
      expect(sums()).toEqual([30, 30, 30, 30]);
    } finally {
      a.release(region);
    }
  });
});
