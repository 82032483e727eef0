/** Bad input: every failure is a Left naming the problem (and the leaf path where there is one); nothing is thrown or mutated. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  addWeightDecay,
  applyUpdates,
  chain,
  lars,
  partition,
  scaleByLr,
  scaleByTrustRatio,
  traceMomentum,
  type GradientTransformation,
  type Leaf,
  type OptimizerError,
  type OptimizerErrorKind,
  type Tree,
} from "larch";
import { snapshot } from "./support/trees.js";

const f32 = (values: number[], shape = [values.length]) => ndarray(Float32Array.from(values), shape) as Leaf;
const f64 = (values: number[], shape = [values.length]) => ndarray(Float64Array.from(values), shape) as Leaf;
const params = (): Tree => ({ fc: { weight: f32([1, 2, 3, 4, 5, 6], [2, 3]), bias: f32([0.1, 0.2]) } });
const grads = (): Tree => ({ fc: { weight: f32([0.5, -1, 0.25, 2, 1, -0.5], [2, 3]), bias: f32([0.3, -0.3]) } });

const leftOf = <A>(e: E.Either<OptimizerError, A>): OptimizerError => {
  if (E.isRight(e)) throw new Error("expected a Left");
  return e.left;
};
const right = <A>(e: E.Either<OptimizerError, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** Asserts that init and update of `opt` both fail with this kind and a message matching `text`. */
const refusesOptions = (opt: GradientTransformation<any>, text: RegExp) => {
  const p = params();
  const e1 = leftOf(opt.init(p));
  expect(e1.kind).toBe("InvalidOption");
  expect(e1.message).toMatch(text);
  expect(leftOf(opt.update(grads(), [], p)).message).toBe(e1.message);
};

/** Runs `call`, which must give a Left, and checks that the trees it was handed are untouched. */
const failsCleanly = (
  inputs: unknown[],
  call: () => E.Either<OptimizerError, unknown>,
  kind: OptimizerErrorKind,
  text: RegExp,
  path?: string,
): OptimizerError => {
  const before = inputs.map(snapshot);
  let result: E.Either<OptimizerError, unknown> | undefined;
  expect(() => (result = call())).not.toThrow();
  const error = leftOf(result!);
  expect(error.kind).toBe(kind);
  expect(error.message).toMatch(text);
  if (path !== undefined) expect(error.path).toBe(path);
  expect(inputs.map(snapshot)).toEqual(before);
  return error;
};

describe("validation of options, as the seed's constructor (and finiteness)", () => {
  it.each([
    ["negative lr", { lr: -0.1 }, /Invalid learning rate: -0.1/],
    ["NaN lr", { lr: NaN }, /Invalid learning rate: NaN/],
    ["infinite lr", { lr: Infinity }, /Invalid learning rate: Infinity/],
    ["negative momentum", { lr: 0.1, momentum: -0.9 }, /Invalid momentum value: -0.9/],
    ["NaN momentum", { lr: 0.1, momentum: NaN }, /Invalid momentum value: NaN/],
    ["negative weight decay", { lr: 0.1, weightDecay: -1e-4 }, /Invalid weight_decay value: -0.0001/],
    ["infinite dampening", { lr: 0.1, momentum: 0.9, dampening: Infinity }, /Invalid dampening value/],
    ["nesterov without momentum", { lr: 0.1, nesterov: true }, /Nesterov momentum requires a momentum and zero dampening/],
    ["nesterov with dampening", { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }, /Nesterov momentum requires/],
    ["scaleClip upside down", { lr: 0.1, scaleClip: [10, 1] as const }, /Invalid scale_clip/],
  ])("lars refuses %s", (_, options, text) => refusesOptions(lars(options), text));

  it("each transform refuses its own invalid options", () => {
    refusesOptions(addWeightDecay(-1), /Invalid weight_decay value: -1/);
    refusesOptions(traceMomentum({ momentum: -0.5 }), /Invalid momentum value/);
    refusesOptions(traceMomentum({ momentum: 0, nesterov: true }), /Nesterov/);
    refusesOptions(scaleByTrustRatio({ weightDecay: NaN }), /Invalid weight_decay/);
    refusesOptions(scaleByTrustRatio({ trustCoefficient: 0 }), /Invalid trust coefficient/);
    refusesOptions(scaleByLr(-1), /Invalid learning rate: -1/);
  });

  it("a schedule that yields a bad learning rate, or throws, fails at that step", () => {
    const opt = scaleByLr((t) => (t < 2 ? 0.1 : t === 2 ? NaN : -1));
    const p = params();
    let state = right(opt.init(p));
    for (let t = 0; t < 2; t++) state = right(opt.update(grads(), state, p))[1];
    const e = failsCleanly([p], () => opt.update(grads(), state, p), "InvalidOption", /Invalid learning rate: NaN at step 2/);
    expect(e.step).toBe(2);
    const throwing = scaleByLr(() => {
      throw new Error("boom");
    });
    failsCleanly([p], () => throwing.update(grads(), right(throwing.init(p)), p), "InvalidOption", /schedule failed at step 0: Error: boom/);
  });
});

describe("trees that do not match", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });

  it("a gradient with an extra leaf: StructureMismatch naming the path and both sides", () => {
    const p = params();
    const g = { fc: { ...(grads() as any).fc, extra: f32([1]) } };
    failsCleanly([p, g], () => opt.update(g, right(opt.init(p)), p), "StructureMismatch", /at fc: updates has a record with keys \[bias, extra, weight\], params has a record with keys \[bias, weight\]/, "fc");
  });

  it("arrays of different lengths, and a leaf where a record should be", () => {
    const p = { layers: [f32([1, 2]), f32([3])] };
    const g = { layers: [f32([1, 2])] };
    failsCleanly([p, g], () => opt.update(g, right(opt.init(p)), p), "StructureMismatch", /at layers: updates has an array of 1, params has an array of 2/);
    const g2 = { layers: [f32([1, 2]), { x: f32([3]) }] };
    failsCleanly([p, g2], () => opt.update(g2, right(opt.init(p)), p), "StructureMismatch", /at layers\[1\]: updates has a record with keys \[x\], params has a leaf/);
  });

  it("a shape mismatch names the leaf and both shapes", () => {
    const p = params();
    const g = { fc: { weight: f32([1, 2, 3, 4, 5, 6], [3, 2]), bias: f32([1, 1]) } };
    failsCleanly([p, g], () => opt.update(g, right(opt.init(p)), p), "ShapeMismatch", /shapes differ at fc.weight: updates \[3, 2\], params \[2, 3\]/, "fc.weight");
  });

  it("a dtype mismatch names the leaf and both dtypes", () => {
    const p = params();
    const g = { fc: { weight: f64([1, 2, 3, 4, 5, 6], [2, 3]), bias: f32([1, 1]) } };
    failsCleanly([p, g], () => opt.update(g, right(opt.init(p)), p), "DtypeMismatch", /dtypes differ at fc.weight: updates float64, params float32/, "fc.weight");
  });

  it.each([
    ["int32 storage", { w: ndarray(new Int32Array(3), [3]) }, /w has Int32Array storage/],
    ["a number", { w: 3 }, /w is number, not an ndarray leaf/],
    ["null", { w: null }, /w is null/],
    ["a Map", { w: new Map() }, /w is Map/],
    ["a view outside its storage", { w: ndarray(new Float32Array(4), [3], [2]) }, /w views indices outside its storage/],
  ])("a tree with %s is an InvalidTree Left", (_, bad, text) => {
    failsCleanly([], () => opt.init(bad as unknown as Tree), "InvalidTree", text, "w");
    const p = { w: f32([1, 2, 3]) };
    failsCleanly([p], () => opt.update(bad as unknown as Tree, right(opt.init(p)), p), "InvalidTree", text, "w");
  });

  it("applyUpdates refuses trees that do not match", () => {
    const p = params();
    failsCleanly([p], () => applyUpdates(p, { fc: { weight: f32([1, 2, 3, 4, 5, 6], [2, 3]) } }), "StructureMismatch", /at fc/);
  });

  it("lars without params is a MissingParams Left", () => {
    const p = params();
    failsCleanly([p], () => opt.update(grads(), right(opt.init(p)), undefined), "MissingParams", /addWeightDecay needs the params/);
  });
});

describe("non-finite values", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  it.each([
    ["NaN in a gradient", "grads", NaN, /gradient fc.weight contains NaN at step 1/],
    ["+Inf in a gradient", "grads", Infinity, /gradient fc.weight contains ±Inf at step 1/],
    ["-Inf in a gradient", "grads", -Infinity, /gradient fc.weight contains ±Inf at step 1/],
    ["NaN in a parameter", "params", NaN, /parameter fc.weight contains NaN at step 1/],
    ["+Inf in a parameter", "params", Infinity, /parameter fc.weight contains ±Inf at step 1/],
  ])("%s is a NonFinite Left naming leaf and step; the state stays usable", (_, where, value, text) => {
    const p = params();
    const [, state1] = right(opt.update(grads(), right(opt.init(p)), p));
    const bad = where === "grads" ? grads() : params();
    ((bad as any).fc.weight as Leaf).set(1, 2, value);
    const [g, q] = where === "grads" ? [bad, p] : [grads(), bad];
    const e = failsCleanly([g, q, (state1 as any)[1].trace], () => opt.update(g, state1, q), "NonFinite", text, "fc.weight");
    expect(e.step).toBe(1);
    // drop the batch and go on: the same state steps as if the bad batch had never come
    const [u] = right(opt.update(grads(), state1, p));
    expect(snapshot(u)).toBe(snapshot(right(opt.update(grads(), state1, p))[0]));
  });
});

describe("a state from another optimizer or tree", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9 });
  const p = params();

  it("a chain state of another length", () => {
    const other = chain(traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
    failsCleanly([p], () => opt.update(grads(), right(other.init(p)) as any, p), "StateMismatch", /a chain of 4 transformations was given a state of 2/);
  });

  it("a member state of another kind", () => {
    const s = right(opt.init(p)) as readonly unknown[];
    const swapped = [s[0], s[2], s[1], s[3]];
    failsCleanly([p], () => opt.update(grads(), swapped, p), "StateMismatch", /traceMomentum was given a scaleByTrustRatio state/);
  });

  it("garbage instead of a state", () => {
    for (const junk of [null, 3, "state", {}]) failsCleanly([p], () => opt.update(grads(), junk as any, p), "StateMismatch", /chain of 4/);
  });

  it("a momentum buffer made for another tree", () => {
    const q = { fc: { weight: f32([1, 2, 3], [3]), bias: f32([0.1, 0.2]) } };
    failsCleanly([p], () => opt.update(grads(), right(opt.init(q)), p), "StateMismatch", /shapes differ at fc.weight.*another tree/, "fc.weight");
  });

  it("a corrupted step count", () => {
    const s = right(opt.init(p)) as readonly any[];
    const bad = [s[0], { ...s[1], count: -1 }, s[2], s[3]];
    failsCleanly([p], () => opt.update(grads(), bad, p), "StateMismatch", /invalid step count: -1/);
  });
});

describe("partition labels", () => {
  const p = params();
  const t = { a: lars({ lr: 0.1 }), b: lars({ lr: 0.2 }) };
  it("a leaf without a label", () => {
    failsCleanly([p], () => partition(t, { fc: { weight: "a" } }).init(p), "StructureMismatch", /no label for the leaf fc.bias/, "fc.bias");
  });
  it("a label that names no transformation", () => {
    failsCleanly([p], () => partition(t, { fc: { weight: "a", bias: "c" } }).init(p), "InvalidOption", /label "c" of fc.bias names no transformation \(known: a, b\)/);
  });
  it("a label that is not a string, and a labels function that throws", () => {
    failsCleanly([p], () => partition(t, { fc: { weight: "a", bias: 3 as any } }).init(p), "InvalidTree", /label at fc.bias is 3/);
    const throwing = partition(t, () => {
      throw new Error("no labels");
    });
    failsCleanly([p], () => throwing.init(p), "InvalidOption", /labels function failed: Error: no labels/);
  });
  it("a partition state made for another tree", () => {
    const opt = partition(t, { fc: { weight: "a", bias: "b" } });
    const other = { fc: { weight: f32([1, 2, 3, 4, 5, 6], [2, 3]), gain: f32([1, 1]) } };
    const foreign = right(partition(t, { fc: { weight: "a", gain: "b" } }).init(other));
    failsCleanly([p], () => opt.update(grads(), foreign, p), "StateMismatch", /no label for the leaf fc.bias \(a partition state made for another tree\?\)/);
  });
  it("labels for a leaf the tree does not have", () => {
    failsCleanly([p], () => partition(t, { fc: { weight: "a", bias: "b", gain: "a" } }).init(p), "StructureMismatch", /labels name a leaf the tree does not have: fc.gain/);
  });
});
