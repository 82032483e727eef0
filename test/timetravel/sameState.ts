/**
 * An independent deep comparison of states for the tests: same kinds, keys, lengths, scalars equal by
 * Object.is (so -0 ≠ 0 and NaN = NaN), leaves of the same dtype and shape with every element equal by
 * Object.is when read through the ndarray's own indexing.
 */
import type { State } from "../../src/timetravel/stateValue.js";

type AnyLeaf = { data: Float32Array | Float64Array; shape: number[]; get(...i: number[]): number };

const isLeaf = (x: unknown): x is AnyLeaf => typeof x === "object" && x !== null && "data" in x && "shape" in x;

/** Every index tuple of a shape in row-major order. */
export function* indicesOf(shape: readonly number[]): Generator<number[]> {
  if (shape.some((n) => n === 0)) return;
  const index = shape.map(() => 0);
  for (;;) {
    yield [...index];
    let k = shape.length - 1;
    while (k >= 0 && ++index[k]! === shape[k]) index[k--] = 0;
    if (k < 0) return;
  }
}

/** Where `a` and `b` first differ (a description), or undefined when they are the same state. */
export const firstDifference = (a: State, b: State, path = "<root>"): string | undefined => {
  if (isLeaf(a) || isLeaf(b)) {
    if (!isLeaf(a) || !isLeaf(b)) return `${path}: leaf vs non-leaf`;
    if (a.data.constructor !== b.data.constructor) return `${path}: dtype`;
    if (a.shape.join() !== b.shape.join()) return `${path}: shape ${a.shape} vs ${b.shape}`;
    for (const i of indicesOf(a.shape))
      if (!Object.is(a.get(...i), b.get(...i))) return `${path}[${i}]: ${a.get(...i)} vs ${b.get(...i)}`;
    return undefined;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return `${path}: array shape`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i] as State, b[i] as State, `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join("\u0000") !== kb.join("\u0000")) return `${path}: keys ${ka} vs ${kb}`;
    for (const k of ka) {
      const d = firstDifference((a as Record<string, State>)[k]!, (b as Record<string, State>)[k]!, `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
};

/** True when every record and array in the state is frozen, and every leaf's view, shape and strides. */
export const containersFrozen = (s: State): boolean => {
  if (isLeaf(s)) return Object.isFrozen(s) && (s.shape.length === 0 || (Object.isFrozen(s.shape) && Object.isFrozen((s as unknown as { stride: number[] }).stride)));
  if (typeof s !== "object" || s === null) return true;
  return Object.isFrozen(s) && Object.values(s).every((v) => containersFrozen(v as State));
};
