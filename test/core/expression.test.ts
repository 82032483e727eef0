/**
 * The expression form and the JavaScript generated from it: parsing, the interpreter as the reference, and bit
 * identity between the generated fused loop, the interpreted loop, the block-by-block loop (a chain mixing a closure
 * kernel in) and the unfused chain, over random chains of the library's pieces, random trees and hyper-parameters,
 * updates and applyStep, donated or not.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  applyStep,
  chain,
  chainUnfused,
  defineElementwise,
  elementwise,
  evaluate,
  denseValues,
  dtypeOf,
  identity,
  isLeaf,
  parseBody,
  type GradientTransformation,
  type Tree,
} from "larch";
import { generateCode, loopSource } from "../../src/core/compileJs.js";
import { libraryPieceArb } from "../support/pieces.js";
import { right } from "../compose/bits.js";
import { makeTree, treeSpecArb, type TreeSpec } from "../support/trees.js";

const body = (states: string[], source: Record<string, string>) => right(parseBody("t", states, source));

describe("parseBody", () => {
  it("reads the equation: precedence, unary minus, selects, functions, old and new state values", () => {
    const b = body(["mu"], { mu: "b1 * mu + c1 * u", u: "-(mu' / (sqrt(abs(g)) + eps)) * (p > 0 ? 1 : min(sign(p), max(p, -2)))" });
    expect(b.scalars).toEqual(["b1", "c1", "eps"]);
    expect(b.readsParams).toBe(true);
    const x = { u: 0.5, g: 4, p: -3, old: [0.25], scalars: [0.9, 0.1, 0.5] };
    const mu = 0.9 * 0.25 + 0.1 * 0.5;
    expect(evaluate(b, x, (v) => v)).toEqual({ next: [mu], out: -(mu / (Math.sqrt(4) + 0.5)) * Math.min(-1, Math.max(-3, -2)) });
    const f32 = evaluate(b, x, Math.fround);
    expect(f32.next[0]).toBe(Math.fround(mu));
  });

  it("is a Left naming the assignment for anything it cannot read", () => {
    const problems: [string[], Record<string, string>][] = [
      [[], { u: "u +" }],
      [[], { u: "foo(u)" }],
      [[], { u: "min(u)" }],
      [["b"], { u: "b'", b: "u" }], // u′ must come last
      [["b"], { b: "b' + u", u: "b" }], // b′ read before it is assigned
      [[], { u: "u $ 2" }],
      [[], { u: "u < 1" }], // a comparison is only the condition of a select
      [["b", "c"], { c: "u", b: "u", u: "u" }], // states in their declared order
    ];
    for (const [states, source] of problems) {
      const b = parseBody("myTransform", states, source);
      expect(E.isLeft(b) && b.left.kind).toBe("InvalidOption");
      expect(E.isLeft(b) && b.left.message).toMatch(/^myTransform: /);
    }
  });

  it("a declaration whose body does not parse is a failing transformation, not a throw", () => {
    const t = defineElementwise({ name: "bad", hyperparams: {}, state: { kind: "bad" }, bodies: { x: { u: "u **" } }, step: () => E.right({ body: "x" }) });
    expect(E.isLeft(t.init({})) && E.isLeft(t.update({}, undefined))).toBe(true);
  });
});

/** u ← u·½ + g written as a closure kernel: a member outside the expression form (the chain runs its block loop). */
const closureMember = (): GradientTransformation<{ kind: "half" }> =>
  elementwise({
    name: "half",
    hyperparams: {},
    init: () => E.right({ kind: "half" }),
    begin: (s) =>
      E.right({
        leaf: ({ grads }) =>
          E.right((u, lo, hi) => {
            for (let i = lo, j = 0; i < hi; i++, j++) u[j] = 0.5 * u[j]! + grads[i]!;
          }),
        finish: () => s,
      }),
  });

/** Every value exactly (−0 and ±Inf count), leaves with their dtypes; any NaN counts as NaN (its payload bits are the hardware's). */
const bitsOf = (x: unknown): string =>
  JSON.stringify(x, (_k, v) =>
    isLeaf(v)
      ? `${dtypeOf(v)}[${v.shape}]:${Array.from(denseValues(v), (n) => (Object.is(n, -0) ? "-0" : String(n))).join(",")}`
      : typeof v === "number"
        ? Object.is(v, -0) ? "-0" : String(v)
        : v,
  );

const stepAll = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number, via: "update" | "apply" | "donate") => {
  let params: Tree = makeTree(spec, seed);
  let state = right(opt.init(params));
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = makeTree(spec, seed + 1 + t, 0.1);
    const step = via === "update" ? opt.update(grads, state, params) : applyStep(opt, grads, state, params, { donate: via === "donate" });
    if (E.isLeft(step)) return [...out, JSON.stringify(step.left)]; // the same Left on every path (a NaN norm, say)
    if (via === "update") [, state] = step.right;
    else [params, state] = step.right;
    out.push(bitsOf(step.right));
  }
  return out;
};

describe("generated loops: the same bits as the interpreter and the unfused chain", () => {
  it("random chains of the library's pieces, random trees, strides and dtypes, 1–3 steps, update / applyStep / donated", () => {
    fc.assert(
      fc.property(
        fc.array(libraryPieceArb, { minLength: 1, maxLength: 4 }),
        treeSpecArb(),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<"update" | "apply" | "donate">("update", "apply", "donate"),
        fc.boolean(),
        fc.integer(),
        (pieces, spec, steps, via, withClosure, seed) => {
          const members = () => {
            const ms = pieces.map((p) => p.make());
            return withClosure ? [...ms, closureMember()] : ms;
          };
          const fused = stepAll(chain(...members()), spec, seed, steps, via);
          const unfused = stepAll(chainUnfused(...members()), spec, seed, steps, via);
          generateCode(false);
          try {
            const interpreted = stepAll(chain(...members()), spec, seed, steps, via);
            expect(interpreted).toEqual(unfused);
          } finally {
            generateCode(true);
          }
          expect(fused).toEqual(unfused);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("one loop per leaf with every member inlined: no call per member", () => {
    const src = loopSource(
      [body(["trace"], { trace: "m * trace + c * u", u: "trace'" }), null, body([], { u: "-alpha * u" })],
      "float32",
      "apply",
    );
    expect(src.match(/for \(/g)).toHaveLength(1);
    expect(src).toContain("out[i] = p[i] + x;");
    expect(src).toContain("x = Math.fround(((-s2_0) * x));");
  });
});
