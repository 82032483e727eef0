/**
 * JavaScript generated from the bodies of a fused chain's members: one loop per leaf with every member's
 * math inlined, each value rounded exactly where {@link evaluate} (the reference) rounds it, so the bits are the
 * interpreter's and the unfused chain's. Compiled once per distinct source (with `new Function`); where a host
 * refuses code generation (a strict content-security policy), the loop runs through the interpreter instead,
 * with the same bits, slower.
 * @module
 */
import type { Dtype, FloatArray } from "./leaf.js";
import { evaluate, type Body, type Comparison, type Expr } from "./expression.js";
import type { LeafBinding } from "./transform.js";

/**
 * How a loop ends each element: `update` stores u′ in out; `apply` stores p + u′ in out (applyStep); `block`
 * rewrites a block of u in place (u[j] for the leaf's value lo + j), for chains that mix closures with bodies.
 */
export type LoopMode = "update" | "apply" | "block";

/**
 * One leaf's pass: `u` the incoming updates (or a block of them), `g` the raw gradient, `p` the params (or
 * undefined when no body reads them), `out` the result, `bindings[k]` member k's, over [lo, hi).
 */
export type LeafLoop = (
  u: FloatArray,
  g: FloatArray,
  p: FloatArray | undefined,
  out: FloatArray,
  bindings: readonly LeafBinding[],
  lo: number,
  hi: number,
) => void;

const JS_COMPARE: { readonly [op in Comparison]: string } = { "<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "===", "!=": "!==" };

/** The JS of an expression of member m, fully parenthesised (so its evaluation order is the tree's). */
const jsOf = (e: Expr, m: number): string => {
  switch (e.k) {
    case "u":
      return "x";
    case "g":
      return "g[i]";
    case "p":
      return "p[i]";
    case "old":
      return `o${m}_${e.state}`;
    case "new":
      return `n${m}_${e.state}`;
    case "scalar":
      return `s${m}_${e.slot}`;
    case "num":
      return Object.is(e.value, -0) ? "(-0)" : String(e.value);
    case "bin":
      return `(${jsOf(e.a, m)} ${e.op} ${jsOf(e.b, m)})`;
    case "call":
      if (e.f === "neg") return `(-${jsOf(e.args[0]!, m)})`;
      return `Math.${e.f}(${e.args.map((a) => jsOf(a, m)).join(", ")})`;
    case "select":
      return `((${jsOf(e.l, m)} ${JS_COMPARE[e.op]} ${jsOf(e.r, m)}) ? ${jsOf(e.a, m)} : ${jsOf(e.b, m)})`;
  }
};

/**
 * The source of a leaf loop over these members (null members are the identity and leave no code).
 * @example
 * loopSource([traceBody, lrBody], "float32", "apply") // "const a0_0 = b[0].arrays[0]; … for (…) { let x = u[i]; … out[i] = p[i] + x; }"
 */
export const loopSource = (bodies: readonly (Body | null)[], dtype: Dtype, mode: LoopMode): string => {
  // a value read from an array of the leaf's dtype, or a state value just stored in one, is rounded already
  const round = (js: string, e: Expr) => (dtype === "float32" && !["u", "g", "p", "old", "new"].includes(e.k) ? `Math.fround(${js})` : js);
  const head: string[] = [];
  const loop: string[] = [];
  bodies.forEach((body, m) => {
    if (body === null) return;
    body.scalars.forEach((_, s) => head.push(`const s${m}_${s} = b[${m}].scalars[${s}];`));
    body.states.forEach((_, k) => head.push(`const a${m}_${2 * k} = b[${m}].arrays[${2 * k}], a${m}_${2 * k + 1} = b[${m}].arrays[${2 * k + 1}];`));
    // every old value is read before any new one is stored: with donation the new storage is the old
    body.states.forEach((_, k) => loop.push(`const o${m}_${k} = a${m}_${2 * k}[i];`));
    body.next.forEach((e, k) => loop.push(`const n${m}_${k} = ${round(jsOf(e, m), e)}; a${m}_${2 * k + 1}[i] = n${m}_${k};`));
    loop.push(`x = ${round(jsOf(body.out, m), body.out)};`);
  });
  const index = mode === "block" ? "for (let i = lo, j = 0; i < hi; i++, j++) {" : "for (let i = lo; i < hi; i++) {";
  const load = mode === "block" ? "let x = u[j];" : "let x = u[i];";
  const store = mode === "block" ? "u[j] = x;" : mode === "apply" ? "out[i] = p[i] + x;" : "out[i] = x;";
  return [...head, index, load, ...loop, store, "}"].join("\n");
};

const compiled = new Map<string, LeafLoop>();
let canGenerate = true;

/** The interpreter's loop over the same members: what runs where code generation is refused. */
const interpretedLoop =
  (bodies: readonly (Body | null)[], dtype: Dtype, mode: LoopMode): LeafLoop =>
  (u, g, pIn, out, b, lo, hi) => {
    const round = dtype === "float32" ? Math.fround : (v: number) => v;
    for (let i = lo, j = 0; i < hi; i++, j++) {
      let x = u[mode === "block" ? j : i]!;
      bodies.forEach((body, m) => {
        if (body === null) return;
        const { arrays, scalars } = b[m]!;
        const old = body.states.map((_, k) => arrays[2 * k]![i]!);
        const r = evaluate(body, { u: x, g: g[i]!, p: pIn?.[i] ?? NaN, old, scalars }, round);
        r.next.forEach((v, k) => (arrays[2 * k + 1]![i] = v));
        x = r.out;
      });
      if (mode === "block") u[j] = x;
      else out[i] = mode === "apply" ? pIn![i]! + x : x;
    }
  };

/**
 * The loop of these members for leaves of this dtype, generated and compiled once per distinct source.
 * @example
 * const loop = leafLoop([trace, lr], "float32", "apply");
 * loop(g, g, p, next, [traceBinding, lrBinding], 0, p.length); // p′ = p + u′ for every value of the leaf
 */
export const leafLoop = (bodies: readonly (Body | null)[], dtype: Dtype, mode: LoopMode): LeafLoop => {
  const source = loopSource(bodies, dtype, mode);
  const key = `${dtype}\n${source}`; // (the interpreted loop depends on the dtype even where the source does not)
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  let loop: LeafLoop | undefined;
  if (canGenerate)
    try {
      loop = new Function("u", "g", "p", "out", "b", "lo", "hi", source) as LeafLoop;
    } catch {
      canGenerate = false; // e.g. --disallow-code-generation-from-strings
    }
  loop ??= interpretedLoop(bodies, dtype, mode);
  if (compiled.size > 256) compiled.clear();
  compiled.set(key, loop);
  return loop;
};

/** Makes {@link leafLoop} interpret instead of generating code (what a host without code generation gets); for tests. */
export const generateCode = (on: boolean): void => {
  canGenerate = on;
  compiled.clear();
};
