/**
 * What the typed helpers, issue 14's factories and the time-travel functions give a plain-JavaScript caller's junk
 * (issue 12): the no-throw property checks that nothing is thrown; these check what comes back instead.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adan,
  allocate,
  applyEvery,
  copyLeaf,
  defineElementwise,
  denseValues,
  diffSteps,
  dtypeOf,
  elementwise,
  evaluate,
  flatten,
  joinSchedules,
  l2Norm,
  leafOf,
  lookahead,
  matmul,
  oneCycle,
  parseBody,
  planLeaves,
  rebuildOptimizer,
  scaleByLr,
  seek,
  sgd,
  sgdr,
  sizeOf,
  sumOfSquares,
  treeScale,
  warmupCosineDecay,
  zerosLike,
  type Leaf,
} from "larch";

const revoked = (() => {
  const r = Proxy.revocable({}, {});
  r.revoke();
  return r.proxy;
})();
const w = () => ndarray(Float32Array.of(1, 2, 3, 4), [2, 2]) as Leaf;
const leftOf = (x: E.Either<{ kind: string; message: string }, unknown>) => (E.isLeft(x) ? x.left : undefined);

describe("leaf helpers given junk", () => {
  it("leafOf refuses data that is not a float array, or a shape that is not whole numbers, and flatten says why", () => {
    for (const [data, shape, why] of [
      [[1, 2], [2], "not a Float32Array or Float64Array"],
      [Float32Array.of(1, 2), [2.5], "not an array of whole numbers"],
      [Float32Array.of(1, 2), "2", "not an array of whole numbers"],
    ] as const) {
      const leaf = leafOf(data as never, shape as never);
      const flat = flatten({ w: leaf });
      expect(leftOf(flat)?.kind).toBe("InvalidTree");
      expect(leftOf(flat)?.message).toContain(why);
      expect(leftOf(sgd({ lr: 0.1 }).init({ w: leaf }))?.kind).toBe("InvalidTree");
    }
    expect(E.isRight(flatten({ w: leafOf(Float32Array.of(1, 2), [2]) }))).toBe(true);
  });

  it("copyLeaf of junk is refused the same way; of a leaf, a copy", () => {
    expect(leftOf(flatten(copyLeaf({ shape: [2] } as never)))?.message).toContain("copyLeaf");
    expect(leftOf(flatten(copyLeaf(revoked as never)))?.kind).toBe("InvalidTree");
    expect([...denseValues(copyLeaf(w()))]).toEqual([1, 2, 3, 4]);
  });

  it("numbers are NaN, arrays empty, the dtype float64", () => {
    expect(sizeOf(null as never)).toBeNaN();
    expect(sizeOf([2, -1])).toBeNaN();
    expect(sizeOf([2, 3])).toBe(6);
    expect(l2Norm([3, 4] as never)).toBeNaN();
    expect(sumOfSquares(revoked as never)).toBeNaN();
    expect(l2Norm(Float32Array.of(3, 4))).toBe(5);
    expect(allocate("float32", -1).length).toBe(0);
    expect(allocate("float32", 2 ** 40).length).toBe(0); // more than the engine allocates: empty, no RangeError
    expect(allocate("float32", 3)).toEqual(new Float32Array(3));
    expect(denseValues(undefined as never).length).toBe(0);
    expect(dtypeOf(revoked as never)).toBe("float64");
    expect(dtypeOf(w())).toBe("float32");
    expect(zerosLike(null as never)).toEqual({});
  });
});

describe("issue 14's factories given junk", () => {
  it("a refused schedule carries why, which scaleByLr returns before any step", () => {
    for (const [schedule, why] of [
      [joinSchedules({ schedules: [0.1, "x"], boundaries: [5] } as never), "joinSchedules: option schedules must be"],
      [joinSchedules({ schedules: [0.1, warmupCosineDecay({ init: 0 } as never)], boundaries: [5] }), "schedule 1 is refused"],
      [oneCycle({ transitionSteps: 10, peak: 0.1, anneal: "cosin" } as never), 'one of "cosine", "linear"'],
      [warmupCosineDecay({ init: 0, peak: 0.1, warmupSteps: "5", decaySteps: 10 } as never), "option warmupSteps must be a number"],
      [sgdr([{ init: 0, peak: 0.1, warmupSteps: 1, decaySteps: 10 }, null] as never), "sgdr: option cycles must be"],
      [sgdr([{ init: 0, peak: 0.1, warmupSteps: 1 }] as never), "cycle 0 is refused"],
    ] as const) {
      expect(schedule(0)).toBeNaN();
      const left = leftOf(scaleByLr(schedule).init({ w: w() }));
      expect(left?.kind).toBe("InvalidOption");
      expect(left?.message).toContain(why);
    }
    expect(joinSchedules({ schedules: [0.5, 0.1], boundaries: [2] })(3)).toBe(0.1);
  });

  it("optimizers, wrappers and transforms refuse junk options with a Left naming the option", () => {
    const throwing = Object.defineProperty({}, "lr", { get: () => { throw new Error("getter"); }, enumerable: true });
    expect(leftOf(adan(throwing as never).init({ w: w() }))?.message).toContain("reading option lr threw");
    expect(leftOf(applyEvery(Symbol("k") as never).init({ w: w() }))?.message).toContain("option k must be a number");
    expect(leftOf(lookahead(sgd({ lr: 0.1 }), revoked as never).init({ w: w() }))?.kind).toBe("InvalidOption");
    expect(leftOf(lookahead({ init: 1 } as never, { syncPeriod: 2, slowStepSize: 0.5 }).init({ w: w() }))?.message).toContain("option fast must be a transformation");
  });
});

describe("the extension API given junk", () => {
  it("planLeaves, parseBody, matmul: Lefts; evaluate: NaN; elementwise and defineElementwise: failing transformations", () => {
    expect(leftOf(planLeaves(null as never, null as never, null as never, null as never))?.message).toContain("planLeaves: its arguments cannot be read");
    expect(leftOf(parseBody("t", null as never, { u: "u" }))?.kind).toBe("InvalidOption");
    expect(leftOf(parseBody("t", [], { u: 5 } as never))?.message).toContain("a body is a record of expressions");
    expect(E.isRight(parseBody("t", [], { u: "2 * u" }))).toBe(true);
    expect(evaluate(null as never, null as never, Math.fround)).toEqual({ next: [], out: NaN });
    expect(leftOf(matmul(w(), w(), null as never))?.kind).toBe("InvalidOption");
    expect(leftOf(matmul({ data: Float32Array.of(1), shape: [2, 2], stride: [2, 1], offset: 0 } as never, w()))?.kind).toBe("InvalidTree");
    expect(leftOf(elementwise({ name: "x", hyperparams: {} } as never).init({ w: w() }))?.message).toContain("init is undefined, not a function");
    expect(leftOf(defineElementwise({ name: "x", hyperparams: {}, state: {}, bodies: {}, step: () => E.right({ body: null }) } as never).init({}))?.message).toContain("needs a kind");
    expect(leftOf(treeScale(revoked as never, { w: w() }))?.message).toContain("the scale must be a number");
  });

  it("seek, diffSteps and rebuildOptimizer: a Left for junk and for a spec that is not JSON", () => {
    expect(leftOf(seek(revoked as never, 0))?.kind).toBe("InvalidOption");
    expect(leftOf(diffSteps(null as never, { step: 0 }, { step: 1 }))?.message).toContain("diffSteps needs a recording");
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(leftOf(rebuildOptimizer(cyclic as never))?.message).toContain("cannot rebuild");
    expect(leftOf(rebuildOptimizer({ name: "sgd", hyperparams: { n: 10n } } as never))?.kind).toBe("InvalidOption");
  });
});
