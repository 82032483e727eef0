/** A tree larch built carries its flat form; no other tree may be taken apart through it. Its records of numbers are marked leafless. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { applyStep, flatten, isDonated, lars, type Leaf, type Tree } from "larch";
import { isHiddenKey, isLeafless } from "../../src/core/builtTrees.js";
import { leavesOf } from "../../src/core/donation.js";

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

describe("records of numbers larch built", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9 });
  const params = () => ({ w: dense([1, 2, 3]), b: dense([0.5]) });
  const grads = { w: dense([0.1, 0.2, 0.3]), b: dense([0.01]) };

  it("carry a leafless mark that nothing lists, and a donated step still finds every leaf of the state around them", () => {
    const p0 = params();
    const s0 = E.getOrElseW(() => undefined)(opt.init(p0)) as readonly unknown[];
    const stepped = applyStep(opt, grads, s0, p0, { donate: true });
    if (E.isLeft(stepped)) throw new Error(stepped.left.message);
    const [, s1] = stepped.right as unknown as [Tree, readonly { ratios?: Record<string, number> }[]];
    const ratios = s1.find((m) => m.ratios !== undefined)!.ratios!;
    expect([Object.isFrozen(ratios), isLeafless(ratios), Object.keys(ratios), JSON.stringify(ratios).startsWith('{"b":')]).toEqual([true, true, ["b", "w"], true]);
    expect(Reflect.ownKeys(ratios).filter((k) => !isHiddenKey(k))).toEqual(["b", "w"]);
    // the old state's momentum buffers are dead (found past the records of ratios), the ratios record is not a leaf
    expect(isDonated(s0)).toBe(true);
    const again = applyStep(opt, grads, s0, stepped.right[0]);
    expect(E.isLeft(again) && again.left.kind).toBe("StateReused");
    expect(leavesOf(s1)).toHaveLength(2);
    expect(isLeafless({ ...ratios })).toBe(false); // a copy is a record like any other
  });
});
