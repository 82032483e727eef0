/**
 * A small encoder of WebAssembly binaries: the few sections and instructions the generated kernels use (one
 * imported shared memory, functions of i32 parameters, i32/f32/f64/v128 locals, loads, stores, f32, f32x4, f64 and
 * f64x2 arithmetic, the f32↔f64 conversions, a float64 loaded into both lanes). Generating the bytes here takes well under a millisecond and needs no
 * asynchronous start, where wabt (about 700 kB of JavaScript) starts asynchronously in tens of milliseconds.
 * @module
 */

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

/** Signed LEB128 of a 32-bit integer. */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return out.push(byte), out;
    out.push(byte | 0x80);
  }
};

const f64Bytes = (x: number): number[] => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...b];
};

const f32Bytes = (x: number): number[] => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...b];
};

const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Instructions, as byte sequences (memory accesses take a byte offset; alignment hints are the natural ones). */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  f32: (x: number) => [0x43, ...f32Bytes(x)],
  f64: (x: number) => [0x44, ...f64Bytes(x)],
  i32Load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  i32Store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  f64Load: (offset = 0) => [0x2b, 3, ...uleb(offset)],
  f32Load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset = 0) => [0x38, 2, ...uleb(offset)],
  f64Store: (offset = 0) => [0x39, 3, ...uleb(offset)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32And: [0x71],
  i32Or: [0x72],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  i32GtU: [0x4b],
  f64Promote: [0xbb],
  f32Demote: [0xb6],
  select: [0x1b],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  /** f32 arithmetic and comparisons (scalar) */
  f32Op: { "+": 0x92, "-": 0x93, "*": 0x94, "/": 0x95, min: 0x96, max: 0x97, abs: 0x8b, neg: 0x8c, sqrt: 0x91, "==": 0x5b, "!=": 0x5c, "<": 0x5d, ">": 0x5e, "<=": 0x5f, ">=": 0x60 },
  /** f64 arithmetic and comparisons (scalar) */
  f64Op: { "+": 0xa0, "-": 0xa1, "*": 0xa2, "/": 0xa3, min: 0xa4, max: 0xa5, abs: 0x99, neg: 0x9a, sqrt: 0x9f, "==": 0x61, "!=": 0x62, "<": 0x63, ">": 0x64, "<=": 0x65, ">=": 0x66 },
  /** SIMD instructions by their opcode after the 0xfd prefix */
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
  v128Load: (offset = 0) => [0xfd, 0, 2, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, 11, 2, ...uleb(offset)],
  /** one float64 loaded into both lanes of an f64x2 (v128.load64_splat) */
  v128Load64Splat: (offset = 0) => [0xfd, 10, 3, ...uleb(offset)],
  /** 8 bytes into the low half of a v128, zeros above (v128.load64_zero) */
  v128Load64Zero: (offset = 0) => [0xfd, 93, 2, ...uleb(offset)],
  /** four float32 lanes of x (rounded to float32), as a v128.const */
  f32x4Const: (x: number) => [0xfd, 12, ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x), ...f32Bytes(x)],
  f32x4Splat: [0xfd, 19],
  shuffle: (lanes: readonly number[]) => [0xfd, 13, ...lanes],
  f64x2Splat: [0xfd, 20],
  f64x2Extract: (lane: number) => [0xfd, 33, lane],
  bitselect: [0xfd, 82],
  /** v128.any_true: 1 when any bit is set */
  anyTrue: [0xfd, 83],
  promoteLow: [0xfd, 95],
  /** f32x4 arithmetic and comparisons */
  f32x4Op: { "+": 228, "-": 229, "*": 230, "/": 231, min: 232, max: 233, abs: 224, neg: 225, sqrt: 227, "==": 65, "!=": 66, "<": 67, ">": 68, "<=": 69, ">=": 70 },
  /** f64x2 arithmetic and comparisons */
  f64x2Op: { "+": 240, "-": 241, "*": 242, "/": 243, min: 244, max: 245, abs: 236, neg: 237, sqrt: 239, "==": 71, "!=": 72, "<": 73, ">": 74, "<=": 75, ">=": 76 },
} as const;

/** One function: its parameter types, its locals by type (declared after the parameters, in this order), its code. */
export interface FunctionSpec {
  readonly exportName: string;
  readonly params: readonly ValType[];
  readonly locals: readonly (readonly [count: number, type: ValType])[];
  readonly code: readonly number[];
}

/**
 * A module importing `env.memory` (shared, up to 65,536 pages) and exporting these functions (no results).
 * @example
 * const bytes = encodeModule([{ exportName: "f", params: [I32], locals: [], code: [] }]);
 * new WebAssembly.Module(bytes); // validates
 */
export const encodeModule = (functions: readonly FunctionSpec[]): Uint8Array => {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const memory = [...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(0), ...uleb(65536)];
  const bodies = functions.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([memory])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.exportName), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
};
