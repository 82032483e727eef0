/**
 * Matrix products in WebAssembly SIMD (f64x2), on one thread or shared with the helper thread of `kernelThreads(2)`:
 * the {@link MatrixProduct} the compiled executor hands the core (`wasmMath.matrixProduct`), for transformations
 * that multiply matrices (Muon's Newton–Schulz). Bit for bit the core's JavaScript product (`core/matrixProduct.ts`): every
 * cᵢⱼ starts at +0 and adds xᵢₚ·ytⱼₚ for p = 0, 1, …, k − 1 in turn, one float64 multiplication then one float64
 * addition per term (f64x2.mul, then f64x2.add: no fused multiply-add, no relaxed SIMD), so neither the blocking nor
 * the thread that computes a tile changes a bit.
 *
 * Layout in kernel memory: both factors packed in panels of four rows over the whole depth (x's rows i = 4g + r at
 * panel g, value p at [g][p][r]; yt's rows likewise), padded with zero rows to a multiple of four, so the kernel has
 * no edges; c padded to m₄ × n₄ (multiples of four). The padded rows and columns are computed and thrown away.
 * A task is one tile of c, {@link TILE} rows by {@link TILE} columns, over the whole depth in blocks of
 * {@link DEPTH}; inside it, 4×4 elements of c at a time in eight f64x2 accumulators (four splatted values of x, two
 * f64x2 of yt per step of p). A symmetric product computes only the tiles and 4×4 blocks that reach the upper
 * triangle (j ≥ i) and mirrors the rest, as the JavaScript product does.
 *
 * Knows nothing of any particular transformation.
 * @module
 */
import { matrixProduct, type MatrixProduct } from "../core/matrixProduct.js";
import { TASK_FUNCTIONS, TASK_INTS } from "./compileWasm.js";
import { kernelArena, type KernelArena } from "./kernelMemory.js";
import { encodeModule, I32, op, V128, type FunctionSpec } from "./wasmEncoder.js";
import { wasmApi, type WasmModule } from "./wasm-api.js";

/** Rows and columns of c per task (a multiple of 4): 128 × 128 tiles, 64 of them for a 1000 × 1000 product. */
export const TILE = 128;
/** Depth per block inside a tile: four rows of x (8 KiB) stay in L1, the tile's 128 columns of yt (256 KiB) in L2. */
export const DEPTH = 256;

/** Int32 of the product's record: addresses of packed x, packed yt, c; m₄, k, n₄; symmetric (0 or 1). */
const RECORD_INTS = 8;

/**
 * `matmulTile(record, ib, jb)`: the tile of c at rows [128·ib, …) and columns [128·jb, …), each element accumulated
 * over p in increasing order (depth blocks in turn; each block loads c's partial sums and stores them back, exact in
 * float64).
 */
const tileFunction = (): FunctionSpec => {
  const REC = 0, IB = 1, JB = 2;
  const [AP, BP, CP, M4, K, N4, SYM, I0, I1, J0, J1, P0, P1, I, J, A, B, C, AEND, ROW] = Array.from({ length: 20 }, (_, i) => 3 + i) as number[] as [
    number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number,
  ];
  const ACC = Array.from({ length: 8 }, (_, i) => 23 + i); // acc[2r + h]: row r, columns 2h and 2h + 1 of the 4×4 block
  const B01 = 31, B23 = 32, S = 33;
  const min = (x: number[], y: number[]) => [...x, ...y, ...x, ...y, ...op.i32LtU, ...op.select]; // unsigned
  const get = op.get;
  const mul = op.simd(op.f64x2Op["*"]);
  const add = op.simd(op.f64x2Op["+"]);
  const rowAddress = (r: number) => (r === 0 ? get(C) : [...get(C), ...get(ROW), ...op.i32(r), ...op.i32Mul, ...op.i32Add]);
  const loopWhile = (counter: number, limit: number, step: number[], body: number[]) => [
    ...op.block, ...op.loop,
    ...get(counter), ...get(limit), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...step, ...op.br(0),
    ...op.end, ...op.end,
  ];
  const fields = [AP, BP, CP, M4, K, N4, SYM];
  const code: number[] = [];
  fields.forEach((local, k) => code.push(...get(REC), ...op.i32Load(4 * k), ...op.set(local)));
  code.push(...get(N4), ...op.i32(3), ...op.i32Shl, ...op.set(ROW)); // bytes per row of c
  code.push(...get(IB), ...op.i32(TILE), ...op.i32Mul, ...op.set(I0));
  code.push(...min([...get(I0), ...op.i32(TILE), ...op.i32Add], get(M4)), ...op.set(I1));
  code.push(...get(JB), ...op.i32(TILE), ...op.i32Mul, ...op.set(J0));
  code.push(...min([...get(J0), ...op.i32(TILE), ...op.i32Add], get(N4)), ...op.set(J1));

  // one step of p for the 4×4 block: b01, b23 = yt's four values at p; per row r, x's value at p in both lanes
  const inner: number[] = [...get(B), ...op.v128Load(0), ...op.set(B01), ...get(B), ...op.v128Load(16), ...op.set(B23)];
  for (let r = 0; r < 4; r++) {
    inner.push(...get(A), ...op.v128Load64Splat(8 * r), ...op.set(S));
    inner.push(...get(ACC[2 * r]!), ...get(S), ...get(B01), ...mul, ...add, ...op.set(ACC[2 * r]!)); // c += x·yt (the JavaScript's operand order)
    inner.push(...get(ACC[2 * r + 1]!), ...get(S), ...get(B23), ...mul, ...add, ...op.set(ACC[2 * r + 1]!));
  }
  inner.push(...get(A), ...op.i32(32), ...op.i32Add, ...op.set(A), ...get(B), ...op.i32(32), ...op.i32Add, ...op.set(B));
  inner.push(...get(A), ...get(AEND), ...op.i32LtU, ...op.brIf(0));

  const block: number[] = [];
  // A = AP + 8·I·k + 32·P0 (panel I/4, depth P0), B likewise for J; C = CP + I·ROW + 8·J; AEND after P1 − P0 steps
  block.push(...get(AP), ...get(I), ...get(K), ...op.i32Mul, ...op.i32(3), ...op.i32Shl, ...op.i32Add, ...get(P0), ...op.i32(5), ...op.i32Shl, ...op.i32Add, ...op.set(A));
  block.push(...get(BP), ...get(J), ...get(K), ...op.i32Mul, ...op.i32(3), ...op.i32Shl, ...op.i32Add, ...get(P0), ...op.i32(5), ...op.i32Shl, ...op.i32Add, ...op.set(B));
  block.push(...get(CP), ...get(I), ...get(ROW), ...op.i32Mul, ...op.i32Add, ...get(J), ...op.i32(3), ...op.i32Shl, ...op.i32Add, ...op.set(C));
  block.push(...get(A), ...get(P1), ...get(P0), ...op.i32Sub, ...op.i32(5), ...op.i32Shl, ...op.i32Add, ...op.set(AEND));
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) block.push(...rowAddress(r), ...op.v128Load(16 * h), ...op.set(ACC[2 * r + h]!));
  block.push(...op.loop, ...inner, ...op.end);
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) block.push(...rowAddress(r), ...get(ACC[2 * r + h]!), ...op.v128Store(16 * h));

  // J from J0, or from max(J0, I) when symmetric (only the blocks that reach the upper triangle)
  const firstJ = [...get(I), ...get(J0), ...get(I), ...get(J0), ...op.i32GtU, ...op.select, ...get(J0), ...get(SYM), ...op.select, ...op.set(J)];
  const rows = loopWhile(I, I1, [...get(I), ...op.i32(4), ...op.i32Add, ...op.set(I)], [
    ...firstJ,
    ...loopWhile(J, J1, [...get(J), ...op.i32(4), ...op.i32Add, ...op.set(J)], block),
  ]);
  const depth = loopWhile(P0, K, [...get(P1), ...op.set(P0)], [...min([...get(P0), ...op.i32(DEPTH), ...op.i32Add], get(K)), ...op.set(P1), ...get(I0), ...op.set(I), ...rows]);
  code.push(...op.i32(0), ...op.set(P0), ...depth);
  return { exportName: TASK_FUNCTIONS[2], params: [I32, I32, I32], locals: [[20, I32], [11, V128]] as const, code };
};

/**
 * The module of the tiled product (exports `matmulTile(record, ib, jb)`).
 * @example
 * const instance = new WebAssembly.Instance(new WebAssembly.Module(matmulModule()), { env: { memory } });
 */
export const matmulModule = (): Uint8Array => encodeModule([tileFunction()]);

type Tile = (record: number, ib: number, jb: number) => void;
let compiled: WasmModule | null | undefined;
const tiles = new WeakMap<object, Tile>();

/** The tile function over this arena's memory, or undefined when the host refuses the module (no SIMD). */
const tileOf = (a: KernelArena): { module: WasmModule; tile: Tile } | undefined => {
  if (compiled === undefined) {
    try {
      compiled = new wasmApi!.Module(matmulModule());
    } catch {
      compiled = null;
    }
  }
  if (compiled === null) return undefined;
  let tile = tiles.get(a.memory);
  if (tile === undefined) {
    tile = new wasmApi!.Instance(compiled, { env: { memory: a.memory } }).exports[TASK_FUNCTIONS[2]] as Tile;
    tiles.set(a.memory, tile);
  }
  return { module: compiled, tile };
};

const up4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Writes a row-major rows × k float64 matrix into `to` from index `at` as panels of four rows ([g][p][r]), zero rows to rows₄. */
const pack = (src: Float64Array, rows: number, k: number, to: Float64Array, at: number): void => {
  for (let i = 0; i < up4(rows); i++) {
    let o = at + (i >> 2) * 4 * k + (i & 3);
    if (i >= rows) for (let p = 0; p < k; p++, o += 4) to[o] = 0;
    else for (let p = 0, s = i * k; p < k; p++, o += 4) to[o] = src[s + p]!;
  }
};

/**
 * c = x·ytᵀ (x: m×k, yt: n×k, row-major float64) as {@link matrixProduct} defines it, with the same bits, by the
 * WebAssembly tiles in kernel memory; on two threads with `kernelThreads(2)` when the product has at least the
 * helper's minimum of multiply-adds. Where there is no kernel memory, the host refuses the module, or the memory
 * cannot hold the packed factors, the JavaScript product runs instead (the same bits).
 * @example
 * const c = wasmProduct(x, x, m, k, m, true); // X·Xᵀ, the upper triangle computed and mirrored
 */
export const wasmProduct: MatrixProduct = (x, yt, m, k, n, symmetric) => {
  const a = m > 0 && n > 0 && k > 0 ? kernelArena() : undefined;
  const kernel = a && tileOf(a);
  if (a === undefined || kernel === undefined) return matrixProduct(x, yt, m, k, n, symmetric);
  const [m4, n4] = [up4(m), up4(n)];
  const [rowTiles, colTiles] = [Math.ceil(m4 / TILE), Math.ceil(n4 / TILE)];
  const tasks: [number, number][] = [];
  for (let ib = 0; ib < rowTiles; ib++) for (let jb = symmetric ? ib : 0; jb < colTiles; jb++) tasks.push([ib, jb]);
  const shared = x === yt; // one packing serves both factors
  const head = 16 * Math.ceil((4 * RECORD_INTS + 4 * TASK_INTS * tasks.length) / 16);
  const xBytes = 8 * m4 * k;
  const yBytes = shared ? 0 : 8 * n4 * k;
  const region = a.allocate(head + xBytes + yBytes + 8 * m4 * n4);
  if (region === undefined) return matrixProduct(x, yt, m, k, n, symmetric);
  try {
    const buffer = a.buffer();
    const f64 = new Float64Array(buffer);
    const i32 = new Int32Array(buffer);
    const [ap, bp] = [region.at + head, region.at + head + xBytes];
    const cp = bp + yBytes;
    pack(x, m, k, f64, ap / 8);
    if (!shared) pack(yt, n, k, f64, bp / 8);
    f64.fill(0, cp / 8, cp / 8 + m4 * n4); // every sum starts at +0
    const record = region.at / 4;
    i32.set([ap, shared ? ap : bp, cp, m4, k, n4, symmetric ? 1 : 0], record);
    const table = region.at + 4 * RECORD_INTS;
    const helper = a.passHelper;
    const id = helper?.idOf(kernel.module) ?? 0;
    tasks.forEach(([ib, jb], t) => i32.set([id, 2, region.at, ib, jb], table / 4 + TASK_INTS * t));
    const run = (t: number) => kernel.tile(region.at, tasks[t]![0], tasks[t]![1]);
    if (helper !== undefined && tasks.length > 1 && m * k * n >= a.helperMinValues) helper.share(table, tasks.length, run);
    else for (let t = 0; t < tasks.length; t++) run(t);
    const c = new Float64Array(m * n);
    const out = new Float64Array(a.buffer(), cp, m4 * n4);
    for (let i = 0; i < m; i++) c.set(out.subarray(i * n4, i * n4 + n), i * n);
    if (symmetric) for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i]!; // cⱼᵢ's terms in cᵢⱼ's order
    return c;
  } finally {
    a.release(region);
  }
};
