/**
 * Run by resume.test.ts in a fresh Node process: for each group of six arguments, loads a checkpoint of
 * { params, state } after k steps, continues the run to step n and writes the final { params, state } as a checkpoint.
 * Usage: tsx resumeChild.ts (IN.safetensors OUT.safetensors chain|partition float32|float64 k n)...
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { decodeStateFor, encodeState, type Dtype } from "larch";
import { larsChain, larsPartition, realParams, runPoints } from "./runs.js";

const argv = process.argv.slice(2);
for (let at = 0; at + 6 <= argv.length; at += 6) {
  const [input, output, kind, dtype, k, n] = argv.slice(at, at + 6) as [string, string, string, Dtype, string, string];
  const opt = kind === "chain" ? larsChain() : larsPartition();
  const params0 = realParams(dtype);
  const expected = opt.init(params0);
  if (E.isLeft(expected)) throw new Error(expected.left.message);
  const loaded = decodeStateFor(readFileSync(input), { params: params0, state: expected.right });
  if (E.isLeft(loaded)) {
    console.error(loaded.left.message);
    process.exit(1);
  }
  const { params, state } = loaded.right.state as { params: never; state: unknown };
  const points = runPoints(opt, params, Number(n) - Number(k), Number(k), state);
  const bytes = encodeState(points[points.length - 1]);
  if (E.isLeft(bytes)) throw new Error(bytes.left.message);
  writeFileSync(output, bytes.right);
}
