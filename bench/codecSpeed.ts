/**
 * Encode/decode speed of state checkpoints (a benchmark, not a test).
 *
 *   npx tsx bench/codecSpeed.ts [shapes.json] [repeats]
 *
 * Builds a momentum-like state over the tree of `shapes.json` (default: the shared ResNet-50 shapes,
 * 25.6 M float32 values ≈ 102 MB), then times encodeState and decodeState on it, and on the same tree in
 * float64, and the CRC-32 alone. Prints one JSON line per case. MB = 10^6 bytes of checkpoint.
 */
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { crc32 } from "../src/timetravel/crc32.js";
import { decodeState, encodeState } from "../src/timetravel/index.js";
import type { State } from "../src/timetravel/stateValue.js";

interface Shapes {
  readonly shapes: readonly { readonly name: string; readonly shape: readonly number[] }[];
}

const shapesPath = process.argv[2] ?? "/work/shared/bench/resnet50-shapes.json";
const repeats = Number(process.argv[3] ?? 5);
const { shapes } = JSON.parse(readFileSync(shapesPath, "utf8")) as Shapes;

/** A tree of leaves named like `layer1.0.conv1.weight` → nested records, filled with pseudo-random values. */
const tree = (Storage: Float32ArrayConstructor | Float64ArrayConstructor, scale: number): State => {
  const root: Record<string, unknown> = {};
  let seed = 12345;
  for (const { name, shape } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Storage(Math.max(1, Math.round(size * scale)));
    for (let i = 0; i < data.length; i++) data[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 1e-2;
    const parts = name.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = ndarray(data, scale === 1 ? [...shape] : [data.length]);
  }
  return root as State;
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const time = (f: () => void): number => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

const run = (label: string, state: State): void => {
  let bytes: Uint8Array = new Uint8Array(0);
  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  const crcMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    encodeMs.push(
      time(() => {
        const out = encodeState(state, { optimizer: "lars", step: 100 });
        if (E.isLeft(out)) throw new Error(out.left.message);
        bytes = out.right;
      }),
    );
    decodeMs.push(
      time(() => {
        const back = decodeState(bytes);
        if (E.isLeft(back)) throw new Error(back.left.message);
      }),
    );
    crcMs.push(time(() => void crc32(bytes)));
  }
  const mb = bytes.length / 1e6;
  const rate = (ms: number) => Math.round(mb / (ms / 1000));
  console.log(
    JSON.stringify({
      case: label,
      checkpointMB: Number(mb.toFixed(1)),
      headerBytes: 8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true),
      encodeMs: Number(median(encodeMs).toFixed(1)),
      encodeMBps: rate(median(encodeMs)),
      decodeMs: Number(median(decodeMs).toFixed(1)),
      decodeMBps: rate(median(decodeMs)),
      crc32MBps: rate(median(crcMs)),
      repeats,
    }),
  );
};

const momentum = (leaves: State): State => [{ kind: "traceMomentum", count: 100, trace: leaves }, { kind: "scaleByLr", lr: 0.1 }];
run("resnet50 float32 momentum", momentum(tree(Float32Array, 1)));
run("resnet50/2 float64 momentum", momentum(tree(Float64Array, 0.5)));
