/**
 * WebAssembly SIMD generated from the bodies of a fused chain's members (the expression form, `core/expression.ts`):
 * one pass per leaf of float32 values, four at a time in f32x4, in float32 arithmetic exactly as the generated
 * JavaScript (`core/compileJs.ts`) and the interpreter compute it (every + − × ÷ and sqrt rounded to float32, each
 * scalar rounded to float32 once), so the bits are theirs. The instructions have the same IEEE semantics as the
 * JavaScript they stand for: f32x4.min/max are Math.min/max (NaN if either is NaN, −0 below +0), sqrt, abs and neg
 * are exact or correctly rounded, sign is built from two comparisons and selects (NaN and ±0 returned as they are, as
 * Math.sign does), comparisons are false on NaN except `!=`. The last (n mod 4) values run the same math in scalar
 * f32. Besides the pass, every module exports `sumsq` and `sumsq2` (two arrays in one loop), the sum of squares in
 * the order of `core/norm.ts` (four float64 accumulators, two per f64x2 lane pair), so a norm computed here has the
 * bits of `sumOfSquares`: norms keep their float64 accumulation.
 *
 * The generator reads expressions only: it knows nothing of any particular transformation.
 * @module
 */
import type { Body, Expr } from "../core/expression.js";
import { encodeModule, F32, F64, I32, op, V128, type FunctionSpec } from "./wasmEncoder.js";

/** Int32 per task of a step's task table: module id, function (an index of {@link TASK_FUNCTIONS}), up to four arguments. */
export const TASK_INTS = 6;

/**
 * The exports a task may name, by index: a pass, a sum of squares, the sums of squares of two arrays (all three in
 * every pass module), a tile of a matrix product (`matmulWasm.ts`).
 */
export const TASK_FUNCTIONS = ["pass", "sumsq", "matmulTile", "sumsq2"] as const;

/** How a pass ends each value: `update` stores u′ in out; `apply` stores p + u′ in out (applyStep). */
export type PassMode = "update" | "apply";

/**
 * Where a pass finds its arrays and scalars: a record in memory of int32 byte addresses (u, g, p, out, then per
 * member with a body, per state array, its old values and where its new ones go), then from `scalarsAt` the
 * float64 scalars of every member with a body, in member then slot order.
 */
export interface PassLayout {
  readonly pointers: number;
  readonly scalarsAt: number;
  readonly scalars: number;
  /** bytes of one record, a multiple of 8 */
  readonly recordBytes: number;
}

/** The record layout of a pass over these members (null members are the identity and take no room). */
export const passLayout = (bodies: readonly (Body | null)[]): PassLayout => {
  const live = bodies.filter((b): b is Body => b !== null);
  const pointers = 4 + 2 * live.reduce((n, b) => n + b.states.length, 0);
  const scalarsAt = 8 * Math.ceil((4 * pointers) / 8);
  const scalars = live.reduce((n, b) => n + b.scalars.length, 0);
  return { pointers, scalarsAt, scalars, recordBytes: scalarsAt + 8 * scalars };
};

const reads = (e: Expr, k: Expr["k"]): boolean =>
  e.k === k ||
  (e.k === "bin" && (reads(e.a, k) || reads(e.b, k))) ||
  (e.k === "call" && e.args.some((x) => reads(x, k))) ||
  (e.k === "select" && [e.l, e.r, e.a, e.b].some((x) => reads(x, k)));

const count = (e: Expr, f: string): number =>
  (e.k === "call" && e.f === f ? 1 : 0) +
  (e.k === "bin" ? count(e.a, f) + count(e.b, f) : 0) +
  (e.k === "call" ? e.args.reduce((n, x) => n + count(x, f), 0) : 0) +
  (e.k === "select" ? [e.l, e.r, e.a, e.b].reduce((n, x) => n + count(x, f), 0) : 0);

/** The locals one evaluation (a block of four values, or one tail value) reads and writes. */
interface Lanes {
  readonly x: number;
  readonly g: number;
  readonly p: number;
  /** member → state → local of its old value, and of its new one */
  readonly old: readonly (readonly number[])[];
  readonly next: readonly (readonly number[])[];
  /** member → slot → local of the scalar (splat for SIMD) */
  readonly scalar: readonly (readonly number[])[];
  /** one temporary per `sign` in the bodies */
  readonly temps: readonly number[];
}

/** f32x4 ("v") or scalar f32 ("s") code of one expression of member m; `temp` counts the temporaries used so far. */
const emit = (e: Expr, m: number, l: Lanes, v: boolean, temp: { at: number }): number[] => {
  const arith = (name: keyof typeof op.f32Op) => (v ? op.simd(op.f32x4Op[name]) : [op.f32Op[name]]);
  const constant = (x: number) => (v ? op.f32x4Const(x) : op.f32(x));
  const sub = (x: Expr) => emit(x, m, l, v, temp);
  switch (e.k) {
    case "u":
      return op.get(l.x);
    case "g":
      return op.get(l.g);
    case "p":
      return op.get(l.p);
    case "old":
      return op.get(l.old[m]![e.state]!);
    case "new":
      return op.get(l.next[m]![e.state]!);
    case "scalar":
      return op.get(l.scalar[m]![e.slot]!);
    case "num":
      return constant(e.value);
    case "bin":
      return [...sub(e.a), ...sub(e.b), ...arith(e.op)];
    case "call": {
      const a = sub(e.args[0]!);
      if (e.f === "min" || e.f === "max") return [...a, ...sub(e.args[1]!), ...arith(e.f)];
      if (e.f !== "sign") return [...a, ...arith(e.f)];
      // sign(x) = x > 0 ? 1 : (x < 0 ? −1 : x): NaN and ±0 come back as they are, as Math.sign returns them
      const t = l.temps[temp.at++]!;
      const pick = v ? op.bitselect : op.select;
      return [...constant(1), ...constant(-1), ...a, ...op.tee(t), ...op.get(t), ...constant(0), ...arith("<"), ...pick, ...op.get(t), ...constant(0), ...arith(">"), ...pick];
    }
    case "select":
      return [...sub(e.a), ...sub(e.b), ...sub(e.l), ...sub(e.r), ...arith(e.op), ...(v ? op.bitselect : op.select)];
  }
};

/**
 * Whether a pass over these members reads the raw gradient g (its bodies name it); a pass that does not never loads
 * the record's g pointer.
 * @example
 * readsGradient([scaleBody]) // false for u′ = c·u; true for a body that reads g
 */
export const readsGradient = (bodies: readonly (Body | null)[]): boolean =>
  bodies.some((b) => b !== null && [...b.next, b.out].some((e) => reads(e, "g")));

/**
 * The pass function: `pass(record, lo, hi, flag)` over values [lo, hi) of one leaf. With `checks`, it also stores at
 * byte address `flag` an int32: 1 when some u or p of the range is NaN or ±Inf, else 0 (from a running sum of
 * (u − u) + (p − p), which is 0 while every value is finite and NaN from the first one that is not).
 */
const passFunction = (bodies: readonly (Body | null)[], mode: PassMode, checks: boolean): FunctionSpec => {
  const layout = passLayout(bodies);
  const live = bodies.map((b, m) => [b, m] as const).filter((x): x is readonly [Body, number] => x[0] !== null);
  const exprs = live.flatMap(([b]) => [...b.next, b.out]);
  const readsG = exprs.some((e) => reads(e, "g"));
  const readsP = checks || mode === "apply" || exprs.some((e) => reads(e, "p"));
  const signs = exprs.reduce((n, e) => n + count(e, "sign"), 0);
  // locals: params rec 0, lo 1, hi 2, flag 3; i32 i, b, end, pointers; f32 scalars, tail lanes, tail check;
  // v128 scalars, block lanes, block check
  const REC = 0, LO = 1, HI = 2, FLAG = 3, I = 4, B = 5, END = 6;
  const ptr0 = 7;
  const i32s = 3 + layout.pointers;
  let next = 4 + i32s;
  const take = (n: number) => Array.from({ length: n }, () => next++);
  const laneLocals = (): Lanes => {
    const [x, g, p] = take(3) as [number, number, number];
    return { x, g, p, old: live.map(([b]) => take(b.states.length)), next: live.map(([b]) => take(b.states.length)), scalar: [], temps: take(signs) };
  };
  const f32Scalars = take(layout.scalars);
  const tail = laneLocals();
  const tailCheck = next++;
  const f32Count = next - 4 - i32s;
  const v128Scalars = take(layout.scalars);
  const quad = laneLocals();
  const quadCheck = next++;
  const v128Count = next - 4 - i32s - f32Count;
  // member index m → its position among the live members, and its scalars' locals
  const slotBase: number[] = [];
  live.reduce((n, [b], k) => ((slotBase[k] = n), n + b.scalars.length), 0);
  const withScalars = (l: Lanes, locals: readonly number[]): Lanes => ({ ...l, scalar: live.map(([b], k) => b.scalars.map((_, s) => locals[slotBase[k]! + s]!)) });
  const tailL = withScalars(tail, f32Scalars);
  const quadL = withScalars(quad, v128Scalars);
  // pointer k: 0 u, 1 g, 2 p, 3 out, then old/new of each state of each live member
  const stateBase: number[] = [];
  live.reduce((n, [b], k) => ((stateBase[k] = n), n + 2 * b.states.length), 4);
  const at = (k: number) => [...op.get(ptr0 + k), ...op.get(B), ...op.i32Add];

  const code: number[] = [];
  for (let k = 0; k < layout.pointers; k++) code.push(...op.get(REC), ...op.i32Load(4 * k), ...op.set(ptr0 + k));
  // each scalar rounded once to float32 (f32.demote_f64 rounds to nearest even, as Math.fround)
  for (let s = 0; s < layout.scalars; s++)
    code.push(...op.get(REC), ...op.f64Load(layout.scalarsAt + 8 * s), ...op.f32Demote, ...op.tee(f32Scalars[s]!), ...op.f32x4Splat, ...op.set(v128Scalars[s]!));
  // end = lo + ((hi − lo) & ~3)
  code.push(...op.get(LO), ...op.set(I), ...op.get(HI), ...op.get(LO), ...op.i32Sub, ...op.i32(-4), ...op.i32And, ...op.get(LO), ...op.i32Add, ...op.set(END));

  // four values a turn, one f32x4 each; then the last (n mod 4) one at a time, in scalar f32: the same operations
  const block: number[] = [...op.get(I), ...op.i32(2), ...op.i32Shl, ...op.set(B)];
  const tailCode: number[] = [...block];
  const loadTo = (k: number, vLocal: number, sLocal: number) => {
    block.push(...at(k), ...op.v128Load(), ...op.set(vLocal));
    tailCode.push(...at(k), ...op.f32Load(), ...op.set(sLocal));
  };
  loadTo(0, quad.x, tail.x);
  if (readsG) loadTo(1, quad.g, tail.g);
  if (readsP) loadTo(2, quad.p, tail.p);
  if (checks) {
    // check += (u − u) + (p − p): locals start at 0, so the sum stays +0 until a NaN or ±Inf makes it NaN
    const add = (l: Lanes, c: number, v: boolean) => {
      const f = (name: keyof typeof op.f32Op) => (v ? op.simd(op.f32x4Op[name]) : [op.f32Op[name]]);
      return [...op.get(c), ...op.get(l.x), ...op.get(l.x), ...f("-"), ...f("+"), ...op.get(l.p), ...op.get(l.p), ...f("-"), ...f("+"), ...op.set(c)];
    };
    block.push(...add(quad, quadCheck, true));
    tailCode.push(...add(tail, tailCheck, false));
  }
  live.forEach(([b], m) => {
    // every old value is read before any new one is stored: with donation the new storage is the old
    b.states.forEach((_, k) => loadTo(stateBase[m]! + 2 * k, quad.old[m]![k]!, tail.old[m]![k]!));
    b.next.forEach((e, k) => {
      block.push(...at(stateBase[m]! + 2 * k + 1), ...emit(e, m, quadL, true, { at: 0 }), ...op.tee(quad.next[m]![k]!), ...op.v128Store());
      tailCode.push(...at(stateBase[m]! + 2 * k + 1), ...emit(e, m, tailL, false, { at: 0 }), ...op.tee(tail.next[m]![k]!), ...op.f32Store());
    });
    block.push(...emit(b.out, m, quadL, true, { at: 0 }), ...op.set(quad.x));
    tailCode.push(...emit(b.out, m, tailL, false, { at: 0 }), ...op.set(tail.x));
  });
  // out = u′, or p′ = p + u′ in float32
  block.push(...at(3), ...(mode === "apply" ? [...op.get(quad.p), ...op.get(quad.x), ...op.simd(op.f32x4Op["+"])] : op.get(quad.x)), ...op.v128Store());
  tailCode.push(...at(3), ...(mode === "apply" ? [...op.get(tail.p), ...op.get(tail.x), op.f32Op["+"]] : op.get(tail.x)), ...op.f32Store());

  const loopOver = (limit: number, step: number, body: number[]) => [
    ...op.block, ...op.loop,
    ...op.get(I), ...op.get(limit), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...op.get(I), ...op.i32(step), ...op.i32Add, ...op.set(I), ...op.br(0),
    ...op.end, ...op.end,
  ];
  code.push(...loopOver(END, 4, block), ...loopOver(HI, 1, tailCode));
  // flag = any lane of the block check is NaN, or the tail's is
  if (checks)
    code.push(
      ...op.get(FLAG), ...op.get(quadCheck), ...op.get(quadCheck), ...op.simd(op.f32x4Op["!="]), ...op.anyTrue,
      ...op.get(tailCheck), ...op.get(tailCheck), op.f32Op["!="], ...op.i32Or, ...op.i32Store(),
    );
  return { exportName: "pass", params: [I32, I32, I32, I32], locals: [[i32s, I32], [f32Count, F32], [v128Count, V128]], code };
};

/**
 * `sumsq(x, n, out)`: Σ xᵢ² of n float32 values at byte address x, stored as a float64 at out, in norm.ts's order
 * (sⱼ = Σ_{i ≡ j mod 4} xᵢ² in increasing i, then (s₀ + s₁) + (s₂ + s₃)); with `pair`, `sumsq2(x, y, n, out)`: the
 * same of x at out and of y at out + 8, in one loop (four independent chains of additions instead of two: faster,
 * the same bits). Each pair of values is widened from an 8-byte load of its own.
 */
const sumsqFunction = (pair: boolean): FunctionSpec => {
  const arrays = pair ? 2 : 1;
  // params x (, y), n, out; locals: i32 end, end2 (byte addresses in x), f64 the sⱼ of each array, square;
  // v128 two accumulators per array, half. The pointers x (, y) advance: 16 bytes a quad.
  const N = arrays, OUT = arrays + 1, END = arrays + 2, END2 = arrays + 3;
  const S = (a: number, k: number) => arrays + 4 + 4 * a + k;
  const SQ = arrays + 4 + 4 * arrays;
  const A = (a: number, half: number) => SQ + 1 + 2 * a + half;
  const HALF = SQ + 1 + 2 * arrays;
  const mulAdd = (acc: number) => [...op.get(acc), ...op.get(HALF), ...op.get(HALF), ...op.simd(op.f64x2Op["*"]), ...op.simd(op.f64x2Op["+"]), ...op.set(acc)];
  const each = (f: (a: number) => number[]) => Array.from({ length: arrays }, (_, a) => f(a)).flat();
  // the quad at byte offset q of each array: its low pair into s₀, s₁, its high pair into s₂, s₃
  const quad = (q: number) => each((a) => [
    ...op.get(a), ...op.v128Load64Zero(q), ...op.promoteLow, ...op.set(HALF), ...mulAdd(A(a, 0)),
    ...op.get(a), ...op.v128Load64Zero(q + 8), ...op.promoteLow, ...op.set(HALF), ...mulAdd(A(a, 1)),
  ]);
  const advance = (bytes: number) => each((a) => [...op.get(a), ...op.i32(bytes), ...op.i32Add, ...op.set(a)]);
  // tail: value k (< n mod 4) of the last quad into sₖ
  const element = (a: number, k: number) => [
    ...op.i32(k), ...op.get(N), ...op.i32(3), ...op.i32And, ...op.i32LtU, ...op.if,
    ...op.get(S(a, k)), ...op.get(a), ...op.f32Load(4 * k), ...op.f64Promote, ...op.tee(SQ),
    ...op.get(SQ), ...[op.f64Op["*"]], ...[op.f64Op["+"]], ...op.set(S(a, k)), ...op.end,
  ];
  const code = [
    // end = x + 4·(n & ~3), end2 = x + 4·(n & ~7): two quads a turn while two remain, then the last quad if there is one
    ...op.get(0), ...op.get(N), ...op.i32(-4), ...op.i32And, ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(END),
    ...op.get(0), ...op.get(N), ...op.i32(-8), ...op.i32And, ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(END2),
    ...op.block, ...op.loop,
    ...op.get(0), ...op.get(END2), ...op.i32GeU, ...op.brIf(1),
    ...quad(0), ...quad(16), ...advance(32), ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(0), ...op.get(END), ...op.i32LtU, ...op.if, ...quad(0), ...advance(16), ...op.end,
    ...each((a) => [
      ...op.get(A(a, 0)), ...op.f64x2Extract(0), ...op.set(S(a, 0)), ...op.get(A(a, 0)), ...op.f64x2Extract(1), ...op.set(S(a, 1)),
      ...op.get(A(a, 1)), ...op.f64x2Extract(0), ...op.set(S(a, 2)), ...op.get(A(a, 1)), ...op.f64x2Extract(1), ...op.set(S(a, 3)),
      ...element(a, 0), ...element(a, 1), ...element(a, 2),
      ...op.get(OUT), ...op.get(S(a, 0)), ...op.get(S(a, 1)), op.f64Op["+"], ...op.get(S(a, 2)), ...op.get(S(a, 3)), op.f64Op["+"], op.f64Op["+"], ...op.f64Store(8 * a),
    ]),
  ];
  const params: typeof I32[] = Array.from({ length: arrays + 2 }, () => I32);
  return { exportName: pair ? "sumsq2" : "sumsq", params, locals: [[2, I32], [4 * arrays + 1, F64], [2 * arrays + 1, V128]], code };
};

/**
 * The module of a fused chain's pass over float32 leaves (exports `pass(record, lo, hi, flag)`, `sumsq(x, n, out)`
 * and `sumsq2(x, y, n, out)`); with `checks`, the pass also flags a NaN or ±Inf in u or p (see the pass).
 * @example
 * const bytes = passModule([traceBody, lrBody], "apply"); // a few hundred bytes
 * const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
 */
export const passModule = (bodies: readonly (Body | null)[], mode: PassMode, checks = false): Uint8Array =>
  encodeModule([passFunction(bodies, mode, checks), sumsqFunction(false), sumsqFunction(true)]);
