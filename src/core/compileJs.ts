/**
 * JavaScript generated from the bodies of a fused chain's members: one loop per leaf with every member's
 * math inlined. For float32 leaves every + − × ÷ and sqrt is wrapped in Math.fround and every scalar and number is
 * rounded to float32 where it is read, exactly where {@link evaluate} (the reference) rounds, so the loop computes in
 * float32 arithmetic with the interpreter's bits (and the WebAssembly's); float64 leaves compute in float64. Compiled once per distinct source (with `new Function`); where a host
 * refuses code generation (a strict content-security policy), the loop runs through the interpreter instead,
 * with the same bits, slower.
 * @module
 */
import type { Dtype, FloatArray } from "./leaf.js";
import { byBodies } from "./byBodies.js";
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

/**
 * The JS of an expression of member m, fully parenthesised (so its evaluation order is the tree's); with `f32`,
 * every rounding operation's result passes through Math.fround (scalars are rounded once, in the loop's head).
 */
const jsOf = (e: Expr, m: number, f32: boolean): string => {
  const sub = (x: Expr) => jsOf(x, m, f32);
  const round = (js: string) => (f32 ? `Math.fround(${js})` : js);
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
    case "num": {
      const v = f32 ? Math.fround(e.value) : e.value;
      return Object.is(v, -0) ? "(-0)" : String(v);
    }
    case "bin":
      return round(`(${sub(e.a)} ${e.op} ${sub(e.b)})`);
    case "call":
      if (e.f === "neg") return `(-${sub(e.args[0]!)})`;
      if (e.f === "sqrt") return round(`Math.sqrt(${sub(e.args[0]!)})`);
      return `Math.${e.f}(${e.args.map(sub).join(", ")})`; // min, max, abs, sign: exact in any dtype
    case "select":
      return `((${sub(e.l)} ${JS_COMPARE[e.op]} ${sub(e.r)}) ? ${sub(e.a)} : ${sub(e.b)})`;
  }
};

/**
 * The source of a leaf loop over these members (null members are the identity and leave no code).
 * @example
 * loopSource([traceBody, lrBody], "float32", "apply") // "const s0_0 = Math.fround(b[0].scalars[0]); … for (…) { let x = u[i]; … out[i] = p[i] + x; }"
 */
export const loopSource = (bodies: readonly (Body | null)[], dtype: Dtype, mode: LoopMode): string => {
  // every value is of the leaf's dtype: read from its arrays, or computed in its arithmetic
  const f32 = dtype === "float32";
  const head: string[] = [];
  const loop: string[] = [];
  bodies.forEach((body, m) => {
    if (body === null) return;
    body.scalars.forEach((_, s) => head.push(`const s${m}_${s} = ${f32 ? `Math.fround(b[${m}].scalars[${s}])` : `b[${m}].scalars[${s}]`};`));
    body.states.forEach((_, k) => head.push(`const a${m}_${2 * k} = b[${m}].arrays[${2 * k}], a${m}_${2 * k + 1} = b[${m}].arrays[${2 * k + 1}];`));
    // every old value is read before any new one is stored: with donation the new storage is the old
    body.states.forEach((_, k) => loop.push(`const o${m}_${k} = a${m}_${2 * k}[i];`));
    body.next.forEach((e, k) => loop.push(`const n${m}_${k} = ${jsOf(e, m, f32)}; a${m}_${2 * k + 1}[i] = n${m}_${k};`));
    loop.push(`x = ${jsOf(body.out, m, f32)};`);
  });
  const index = mode === "block" ? "for (let i = lo, j = 0; i < hi; i++, j++) {" : "for (let i = lo; i < hi; i++) {";
  const load = mode === "block" ? "let x = u[j];" : "let x = u[i];";
  const store = mode === "block" ? "u[j] = x;" : mode === "apply" ? "out[i] = p[i] + x;" : "out[i] = x;";
  return [...head, index, load, ...loop, store, "}"].join("\n");
};

const compiled = new Map<string, LeafLoop>();
let canGenerate = true;

/** The loops already made, by the identity of their bodies (see `byBodies.ts`): no source built for a hit. */
const byIdentity = byBodies<LeafLoop>();

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
  const known = byIdentity.get(bodies, `${dtype} ${mode}`);
  if (known !== undefined) return known;
  const made = leafLoopOfSource(bodies, dtype, mode);
  byIdentity.set(bodies, `${dtype} ${mode}`, made);
  return made;
};

/** {@link leafLoop} by the loop's source: bodies parsed apart but alike share one compiled function. */
const leafLoopOfSource = (bodies: readonly (Body | null)[], dtype: Dtype, mode: LoopMode): LeafLoop => {
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
  byIdentity.clear();
};
