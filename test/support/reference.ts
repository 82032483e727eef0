/** Reads ../shared/fixtures/lars-reference.json (never copied into the repo) and turns its cases into larch inputs. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ndarray from "ndarray";
import type { Dtype, Leaf, LarsOptions, Tree } from "larch";

export interface RefLeaf {
  readonly shape: number[];
  readonly data: number[];
}
export interface RefCase {
  readonly name: string;
  readonly dtype: Dtype;
  readonly options: { lr: number; momentum?: number; dampening?: number; weight_decay?: number; nesterov?: boolean };
  readonly groups?: { leaves: string[]; options: Partial<RefCase["options"]> }[];
  readonly schedule?: { kind: "polynomial"; total_steps: number; power: number };
  readonly steps: number;
  readonly source: "replay" | "quadratic";
  readonly params: Record<string, RefLeaf>;
  readonly grads?: Record<string, number[]>[];
  readonly quadratic?: { scale: Record<string, RefLeaf>; target: Record<string, RefLeaf> };
  readonly trajectory: { params: Record<string, number[]>; momentum: Record<string, number[]> }[];
}

/**
 * shared/fixtures/lars-reference.json in the nearest ancestor directory that has it: ../shared beside the main
 * checkout, and also ../../shared beside a worktree under wt/ (so every checkout of the repo finds the same file).
 */
const findReference = (): string => {
  const rel = join("shared", "fixtures", "lars-reference.json");
  const first = fileURLToPath(new URL("../../../", import.meta.url));
  for (let dir = first; ; dir = dirname(dir)) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    if (dirname(dir) === dir) return join(first, rel); // not found: the read reports the expected path
  }
};

export const REFERENCE_PATH = findReference();

export const loadReference = (): RefCase[] =>
  (JSON.parse(readFileSync(REFERENCE_PATH, "utf8")) as { cases: RefCase[] }).cases;

export const makeLeaf = (dtype: Dtype, shape: readonly number[], data: readonly number[]): Leaf =>
  ndarray(dtype === "float32" ? Float32Array.from(data) : Float64Array.from(data), [...shape]) as Leaf;

/** Nests flat names (`conv.weight`) into a tree `{ conv: { weight } }` (of leaves, or of labels). */
export const nest = <T>(flat: Record<string, T>): Tree => {
  const root: Record<string, any> = {};
  for (const [name, leaf] of Object.entries(flat)) {
    const parts = name.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) node = node[part] ??= {};
    node[parts[parts.length - 1]!] = leaf;
  }
  return root as Tree;
};

/** Reads a leaf of a nested tree by its flat name. */
export const at = (tree: Tree, name: string): Leaf =>
  name.split(".").reduce((node: any, part) => node[part], tree) as Leaf;

export const larsOptions = (o: Partial<RefCase["options"]>, base: RefCase["options"]): LarsOptions => {
  const m = { ...base, ...o };
  return {
    lr: m.lr,
    momentum: m.momentum ?? 0,
    dampening: m.dampening ?? 0,
    weightDecay: m.weight_decay ?? 0,
    nesterov: m.nesterov ?? false,
  };
};
