/**
 * The expression form: a transformation's per-element math as data. A body is a few assignments, read in order:
 * each of the transformation's state arrays gets its new value (stored in the leaf's dtype), then the outgoing update
 * u′. The arithmetic is the leaf's dtype's: for float32 leaves, float32 arithmetic, every operation rounded to
 * float32 (PyTorch's arithmetic on float32 tensors), its operands float32 too (a scalar or a number is rounded to
 * float32 where it is read); for float64 leaves, float64. The code generators (`compileJs.ts`, and the WebAssembly of
 * `kernels/compileWasm.ts`) and the interpreter here ({@link evaluate}, the reference they are tested against) read the
 * same body, so every path has the same bits.
 *
 * The language: numbers, names, `+ − × ÷` (`+ - * /`), unary `-`, comparisons (`< <= > >= == !=`) as the
 * condition of a select (`c ? a : b`), and `sqrt`, `abs`, `sign`, `min`, `max`. Names are the incoming update `u`,
 * the raw gradient `g` the chain started from, the params `p`, a state array's old value (`trace`) or new value
 * (`trace'`, once assigned), and the step's or the leaf's scalars (anything else: a learning rate, a norm).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "./caught.js";
import { optimizerError, showValue, type OptimizerError } from "./errors.js";

/** The binary operations. */
export type BinaryOp = "+" | "-" | "*" | "/";
/** The comparisons a select may test. */
export type Comparison = "<" | "<=" | ">" | ">=" | "==" | "!=";
/** The functions of one or two arguments. */
export type MathFunction = "sqrt" | "abs" | "sign" | "neg" | "min" | "max";

/** A node of an expression: an input, a state value, a scalar slot, a number, or an operation. */
export type Expr =
  | { readonly k: "u" }
  | { readonly k: "g" }
  | { readonly k: "p" }
  | { readonly k: "old"; readonly state: number }
  | { readonly k: "new"; readonly state: number }
  | { readonly k: "scalar"; readonly slot: number }
  | { readonly k: "num"; readonly value: number }
  | { readonly k: "bin"; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly k: "call"; readonly f: MathFunction; readonly args: readonly Expr[] }
  | { readonly k: "select"; readonly op: Comparison; readonly l: Expr; readonly r: Expr; readonly a: Expr; readonly b: Expr };

/**
 * A parsed body: the state arrays it writes (in order), the scalars it reads (slot order), and per state then for
 * u′, its expression; whether it reads p (the core then requires the params).
 */
export interface Body {
  readonly states: readonly string[];
  readonly scalars: readonly string[];
  readonly next: readonly Expr[];
  readonly out: Expr;
  readonly readsParams: boolean;
}

/** The source of a body: the new value of each state array, in order, then u′ under the key `u`. */
export type BodySource = { readonly [target: string]: string };

const FUNCTIONS: { readonly [name: string]: number } = { sqrt: 1, abs: 1, sign: 1, min: 2, max: 2 };
const TOKEN = /\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z_0-9]*'?)|(<=|>=|==|!=|[-+*/()<>?:,]))/y;

const tokenize = (text: string): string[] | string => {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) return /^\s*$/.test(text.slice(at)) ? tokens : `unexpected "${text.slice(at).trim()[0]}" at ${at}`;
    tokens.push(m[1] ?? m[2] ?? m[3]!);
  }
  return tokens;
};

/** Parses one expression against the names it may use (states assigned so far may be read new, with a prime). */
const parseExpr = (text: string, states: readonly string[], assigned: number, scalars: string[]): Expr | string => {
  const tokens = tokenize(text);
  if (typeof tokens === "string") return tokens;
  let at = 0;
  const peek = () => tokens[at];
  const fail = (why: string): never => {
    throw new SyntaxError(why);
  };
  const expect = (t: string) => (tokens[at] === t ? at++ : fail(`expected "${t}" ${at < tokens.length ? `before "${tokens[at]}"` : "at the end"}`));
  const name = (word: string): Expr => {
    const prime = word.endsWith("'");
    const base = prime ? word.slice(0, -1) : word;
    const state = states.indexOf(base);
    if (prime) {
      if (state < 0) return fail(`${word}: ${base} is not a state array`);
      if (state >= assigned) return fail(`${word} is read before ${base} is assigned`);
      return { k: "new", state };
    }
    if (base === "u" || base === "g" || base === "p") return { k: base };
    if (state >= 0) return { k: "old", state };
    let slot = scalars.indexOf(base);
    if (slot < 0) slot = scalars.push(base) - 1;
    return { k: "scalar", slot };
  };
  const atom = (): Expr => {
    const t = tokens[at++];
    if (t === undefined) return fail("unexpected end");
    if (t === "(") {
      const e = select();
      expect(")");
      return e;
    }
    if (t === "-") return { k: "call", f: "neg", args: [atom()] };
    if (/^[\d.]/.test(t)) return { k: "num", value: Number(t) };
    if (!/^[A-Za-z_]/.test(t)) return fail(`unexpected "${t}"`);
    if (peek() !== "(") return name(t);
    const arity = FUNCTIONS[t];
    if (arity === undefined) return fail(`unknown function ${t}`);
    at++;
    const args = [select()];
    while (peek() === ",") at++, args.push(select());
    expect(")");
    if (args.length !== arity) return fail(`${t} takes ${arity} argument${arity === 1 ? "" : "s"}`);
    return { k: "call", f: t as MathFunction, args };
  };
  const term = (): Expr => {
    let e = atom();
    while (peek() === "*" || peek() === "/") e = { k: "bin", op: tokens[at++] as BinaryOp, a: e, b: atom() };
    return e;
  };
  const sum = (): Expr => {
    let e = term();
    while (peek() === "+" || peek() === "-") e = { k: "bin", op: tokens[at++] as BinaryOp, a: e, b: term() };
    return e;
  };
  const select = (): Expr => {
    const l = sum();
    const op = peek();
    if (op !== "<" && op !== "<=" && op !== ">" && op !== ">=" && op !== "==" && op !== "!=") return l;
    at++;
    const r = sum();
    expect("?");
    const a = select();
    expect(":");
    return { k: "select", op, l, r, a, b: select() };
  };
  try {
    const e = select();
    return at === tokens.length ? e : `unexpected "${tokens[at]}"`;
  } catch (err) {
    return (err as Error).message;
  }
};

const reads = (e: Expr, k: Expr["k"]): boolean =>
  e.k === k ||
  (e.k === "bin" && (reads(e.a, k) || reads(e.b, k))) ||
  (e.k === "call" && e.args.some((x) => reads(x, k))) ||
  (e.k === "select" && [e.l, e.r, e.a, e.b].some((x) => reads(x, k)));

/**
 * Parses a body: `{ state₁: "…", …, u: "…" }`, the states in the order they are assigned (they must be the
 * transformation's declared state arrays) and u′ last. A Left (InvalidOption) names the assignment and the problem.
 * @example
 * const trace = parseBody(name, ["trace"], { trace: "m * trace + c * u", u: "trace'" }); // b ← m·b + c·u; u′ = b
 */
export const parseBody = (name: string, states: readonly string[], source: BodySource): E.Either<OptimizerError, Body> => {
  const owner = typeof name === "string" ? name : showValue(name);
  try {
    if (!Array.isArray(states) || !states.every((x) => typeof x === "string"))
      return E.left(optimizerError("InvalidOption", `${owner}: a body's states are an array of names, not ${showValue(states)}`));
    if (typeof source !== "object" || source === null || !Object.values(source).every((x) => typeof x === "string"))
      return E.left(optimizerError("InvalidOption", `${owner}: a body is a record of expressions { state: "…", u: "…" }, not ${showValue(source)}`));
    return parseBodyOrThrow(owner, states, source);
  } catch (e) {
    return threw(owner, e); // a getter or a Proxy trap of the source
  }
};

const parseBodyOrThrow = (name: string, states: readonly string[], source: BodySource): E.Either<OptimizerError, Body> => {
  const targets = Object.keys(source);
  const problem = (why: string) => E.left(optimizerError("InvalidOption", `${name}: ${why}`));
  if (targets[targets.length - 1] !== "u") return problem("a body assigns u′ last (its key u)");
  if (targets.slice(0, -1).join() !== states.join()) return problem(`a body assigns its states [${states.join(", ")}] in order, then u`);
  const scalars: string[] = [];
  const exprs: Expr[] = [];
  for (let k = 0; k < targets.length; k++) {
    const e = parseExpr(source[targets[k]!]!, states, k, scalars);
    if (typeof e === "string") return problem(`in ${targets[k]} = ${source[targets[k]!]}: ${e}`);
    exprs.push(e);
  }
  const out = exprs.pop()!;
  return E.right(Object.freeze({ states, scalars, next: exprs, out, readsParams: [...exprs, out].some((e) => reads(e, "p")) }));
};

/** The values one element's evaluation reads: the inputs at that index, the old state values, the scalars by slot. */
export interface ElementValues {
  readonly u: number;
  readonly g: number;
  readonly p: number;
  readonly old: readonly number[];
  readonly scalars: readonly number[];
}

const compare = (op: Comparison, l: number, r: number): boolean =>
  op === "<" ? l < r : op === "<=" ? l <= r : op === ">" ? l > r : op === ">=" ? l >= r : op === "==" ? l === r : l !== r;

const valueOf = (e: Expr, x: ElementValues, next: readonly number[], round: (v: number) => number): number => {
  switch (e.k) {
    case "u":
    case "g":
    case "p":
      return round(x[e.k]);
    case "old":
      return round(x.old[e.state]!);
    case "new":
      return next[e.state]!;
    case "scalar":
      return round(x.scalars[e.slot]!);
    case "num":
      return round(e.value);
    case "bin": {
      const a = valueOf(e.a, x, next, round);
      const b = valueOf(e.b, x, next, round);
      return round(e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b);
    }
    case "call": {
      // min, max, abs, sign and neg of values of the dtype are values of the dtype: only sqrt rounds
      const a = valueOf(e.args[0]!, x, next, round);
      if (e.f === "min" || e.f === "max") return Math[e.f](a, valueOf(e.args[1]!, x, next, round));
      return e.f === "neg" ? -a : e.f === "sqrt" ? round(Math.sqrt(a)) : Math[e.f](a);
    }
    case "select":
      return compare(e.op, valueOf(e.l, x, next, round), valueOf(e.r, x, next, round)) ? valueOf(e.a, x, next, round) : valueOf(e.b, x, next, round);
  }
};

/**
 * One element of a body, read as written: each new state value, then u′, in the arithmetic `round` gives (Math.fround
 * for a float32 leaf: every operand and every result of + − × ÷ and sqrt rounded to float32, which for float32
 * operands is float32 arithmetic exactly, since float64 has 53 ≥ 2·24 + 2 bits; the identity for float64).
 * The readable reference every generated execution is tested against.
 * @example
 * evaluate(trace, { u: 0.5, g: 0.5, p: 1, old: [0.2], scalars: [0.9, 1] }, Math.fround) // { next: [0.68], out: 0.68 } in float32
 * For anything but a parsed body, its values and a rounding function: `{ next: [], out: NaN }`.
 */
export const evaluate = (body: Body, x: ElementValues, round: (v: number) => number): { next: number[]; out: number } => {
  try {
    const next: number[] = [];
    for (const e of body.next) next.push(valueOf(e, x, next, round));
    const out = valueOf(body.out, x, next, round);
    if (typeof out === "number" && next.every((v) => typeof v === "number")) return { next, out };
  } catch {
    // not a body (a plain-JavaScript caller's junk), or a rounding function that throws
  }
  return { next: [], out: NaN };
};
