/**
 * Writes a sample state checkpoint and, beside it, the values it must hold, for
 * scripts/check_safetensors.py to compare with what safetensors and NumPy read.
 *
 *   npx tsx scripts/write_sample_checkpoint.ts out/sample.safetensors
 *
 * writes out/sample.safetensors and out/sample.expected.json: per tensor name its dtype, shape and the
 * row-major values as hex IEEE-754 bit patterns (read back from the state's own ndarray views).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { encodeState } from "../src/timetravel/index.js";
import type { Leaf } from "../src/core/leaf.js";
import type { State } from "../src/timetravel/stateValue.js";

const target = process.argv[2] ?? "out/sample.safetensors";

const filled = (Storage: Float32ArrayConstructor | Float64ArrayConstructor, shape: number[], specials: number[] = []) => {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Storage(size);
  for (let i = 0; i < size; i++) data[i] = i < specials.length ? specials[i]! : Math.sin(i + 1) * 10 ** ((i % 7) - 3);
  return ndarray(data, shape) as Leaf;
};

const specials = [-0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 0.1];
const specials32 = [-0, NaN, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38, 0.1];
const strided = filled(Float32Array, [4, 6]).step(-1, 2).transpose(1, 0) as Leaf; // shape [3, 4], negative and non-unit strides

const leaves: Record<string, Leaf> = {};
const state: State = [
  {
    kind: "traceMomentum",
    count: 7,
    trace: {
      fc: { weight: (leaves["[0].trace.fc.weight"] = filled(Float32Array, [3, 5], specials32)), bias: (leaves["[0].trace.fc.bias"] = filled(Float64Array, [5], specials)) },
      conv: { weight: (leaves["[0].trace.conv.weight"] = filled(Float32Array, [2, 3, 2, 2])), kernel5d: (leaves["[0].trace.conv.kernel5d"] = filled(Float64Array, [1, 2, 1, 2, 3])) },
      layers: [{ w: (leaves["[0].trace.layers[0].w"] = strided) }, { w: (leaves["[0].trace.layers[1].w"] = filled(Float64Array, [2, 0])) }],
    },
  },
  { kind: "scaleByLars", eps: 1e-8, scalar: (leaves["[1].scalar"] = filled(Float64Array, [])), nan: NaN, negZero: -0 },
];

/** Row-major values of a leaf read through its own indexing, as hex bit patterns. */
const bitsOf = (leaf: Leaf): string[] => {
  const out: string[] = [];
  const single = leaf.data instanceof Float32Array;
  const visit = (prefix: number[]): void => {
    if (prefix.length === leaf.shape.length) {
      const view = new DataView(new ArrayBuffer(8));
      if (single) {
        view.setFloat32(0, leaf.get(...prefix));
        out.push(view.getUint32(0).toString(16).padStart(8, "0"));
      } else {
        view.setFloat64(0, leaf.get(...prefix));
        out.push(view.getBigUint64(0).toString(16).padStart(16, "0"));
      }
      return;
    }
    for (let i = 0; i < leaf.shape[prefix.length]!; i++) visit([...prefix, i]);
  };
  visit([]);
  return out;
};

const bytes = encodeState(state, { optimizer: "lars", hyperparams: { lr: 0.1, momentum: 0.9 }, step: 7 });
if (E.isLeft(bytes)) {
  console.error(bytes.left.message);
  process.exit(1);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, bytes.right);
const expected = Object.fromEntries(
  Object.entries(leaves).map(([name, leaf]) => [
    name,
    { dtype: leaf.data instanceof Float32Array ? "float32" : "float64", shape: leaf.shape, bits: bitsOf(leaf) },
  ]),
);
writeFileSync(target.replace(/\.safetensors$/, "") + ".expected.json", JSON.stringify(expected, null, 1));
console.log(`wrote ${target} (${bytes.right.length} bytes, ${Object.keys(leaves).length} tensors)`);
