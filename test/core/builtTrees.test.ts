/** A tree larch built carries its flat form; no other tree may be taken apart through it. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { applyStep, flatten, lars, type Leaf, type Tree } from "larch";

const dense = (values: number[]): Leaf => ndarray(Float32Array.from(values), [values.length]) as Leaf;

describe("trees larch built", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9 });
  const params = { w: dense([1, 2, 3]), b: dense([0.5]) };
  const grads = { w: dense([0.1, 0.2, 0.3]), b: dense([0.01]) };
  const step = applyStep(opt, grads, E.getOrElseW(() => undefined)(opt.init(params)), params);
  const built = (E.isRight(step) ? step.right[0] : undefined) as Tree & Record<string, Leaf>;

  it("flatten to the same paths and leaves, with no enumerable trace of the cache", () => {
    const flat = flatten(built);
    expect(E.isRight(flat) && flat.right.paths).toEqual(["b", "w"]);
    expect(Object.keys(built)).toEqual(["b", "w"]);
    expect(JSON.stringify(Object.keys({ ...built }))).toBe('["b","w"]');
  });

  it("lend nothing to a tree spread from them or inheriting from them", () => {
    const extended = { ...built, extra: dense([7]) };
    const flat = flatten(extended);
    expect(E.isRight(flat) && flat.right.paths).toEqual(["b", "extra", "w"]);
    const child = flatten(Object.create(built) as Tree);
    expect(E.isLeft(child) && child.left.kind).toBe("InvalidTree");
  });
});
