/**
 * A state nests as deep as the params tree it mirrors, and the core walks trees of any depth: every codec of
 * states (checkpoints, their structure and meta, recordings, seek, verify, diffs, shape checks) does too.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  applyUpdates,
  checkStateShape,
  decodeState,
  decodeStateFor,
  diffStates,
  encodeState,
  openRecording,
  readRecording,
  seek,
  sgd,
  verify,
  type Tree,
} from "larch";
import { jsonText } from "../../src/timetravel/jsonText.js";

const DEPTH = 10_000; // JSON.stringify overflows Node's default stack near 4·10³ levels; a recursive walk near 10⁴

const right = <A>(x: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(x)) throw new Error(x.left.message);
  return x.right;
};

/** `levels` records { x: ... } around `inner`. */
const nest = (inner: unknown, levels = DEPTH): unknown => {
  let t = inner;
  for (let i = 0; i < levels; i++) t = { x: t };
  return t;
};

/** The leaf at the bottom of a tree made by {@link nest} (of params, or of a state's trace). */
const bottom = (tree: unknown): ndarray.NdArray => {
  let t = tree as { x: unknown };
  for (let i = 0; i < DEPTH; i++) t = t.x as { x: unknown };
  return t as unknown as ndarray.NdArray;
};

const params = (): Tree => nest(ndarray(new Float32Array([0.5, -1.25, 3]), [3])) as Tree;
const grad = (t: number): Tree => nest(ndarray(new Float32Array([0.1 * (t + 1), -0.2, 0.05 * t]), [3])) as Tree;
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe(`a params tree ${DEPTH} levels deep`, () => {
  const opt = sgd({ lr: 0.01, momentum: 0.9 }); // its state: a trace tree as deep as the params
  const p0 = params();
  const s0 = right(opt.init(p0));

  it("its state encodes, decodes, is written to a file and read back, bit for bit, with meta as deep", () => {
    const meta = { step: 0, deep: nest([1, "x", null]) };
    const bytes = right(encodeState(s0, meta));
    const dir = mkdtempSync(join(tmpdir(), "larch-deep-"));
    writeFileSync(join(dir, "s.safetensors"), bytes);
    const back = right(decodeState(new Uint8Array(readFileSync(join(dir, "s.safetensors")))));
    expect(hex(right(encodeState(back.state, back.meta)))).toBe(hex(bytes));
    expect(jsonText(back.meta!)).toBe(jsonText(meta as never)); // (vitest's toEqual recurses)
    const trace = (back.state as readonly { trace?: unknown }[]).find((s) => s.trace !== undefined)!.trace;
    expect(Array.from(bottom(trace).data as Float32Array)).toEqual([0, 0, 0]);
    expect(E.isRight(decodeStateFor(bytes, s0))).toBe(true);
    expect(right(checkStateShape(s0, back.state))).toBe(back.state);
    expect(right(diffStates(s0, back.state)).identical).toBe(true);
  });

  it("a run of it is recorded, read, sought at every step and verified, bit for bit", () => {
    const path = join(mkdtempSync(join(tmpdir(), "larch-deep-")), "run.larch");
    const rec = right(openRecording(path, opt, p0, { keyframeEvery: 2, recordGrads: true, meta: nest("deep meta") }));
    const points: { params: Tree; state: unknown }[] = [{ params: p0, state: s0 }];
    for (let t = 0; t < 3; t++) { // keyframes before steps 0 and 2 and after 3: step 1 is sought by replay
      const [u, s] = right(rec.step(grad(t), points[t]!.state as never, points[t]!.params));
      points.push({ params: right(applyUpdates(points[t]!.params, u)), state: s });
    }
    right(rec.close());
    const run = right(readRecording(path));
    expect(jsonText(run.header.meta)).toBe(jsonText(nest("deep meta") as never));
    for (let t = 0; t <= 3; t++) expect(hex(right(encodeState(right(seek(run, t)))))).toBe(hex(right(encodeState(points[t]!))));
    expect(right(verify(run)).divergence).toBe(null);
  });

  it("a cycle in a state, in both states compared, or in meta is a Left naming where it closes", () => {
    const cyclic: Record<string, unknown> = { a: { kind: "k" } };
    (cyclic["a"] as Record<string, unknown>)["back"] = cyclic;
    expect(encodeState(cyclic)).toMatchObject({ _tag: "Left", left: { kind: "InvalidTree", path: "a.back", message: expect.stringMatching(/a cycle/) } });
    expect(checkStateShape(cyclic, cyclic)).toMatchObject({ _tag: "Left", left: { path: "a.back", message: expect.stringMatching(/a cycle/) } });
    expect(diffStates(cyclic, cyclic)).toMatchObject({ _tag: "Left", left: { path: "a.back" } });
    expect(encodeState(1, cyclic)).toMatchObject({ _tag: "Left", left: { message: expect.stringMatching(/meta at a\.back contains itself/) } });
    // shared (not cyclic) parts are state data like any other
    const shared = { kind: "k" };
    expect(E.isRight(encodeState({ a: shared, b: shared }, { a: shared, b: [shared] }))).toBe(true);
  });
});

describe("jsonText", () => {
  it("writes what JSON.stringify writes for every JSON value, own __proto__ keys included", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(jsonText(v as never)).toBe(JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
    const proto = JSON.parse('{"__proto__":{"a":[1,-2.5e-300,"\\u0000\\ud800"]},"1":true,"b":null}') as never;
    expect(jsonText(proto)).toBe(JSON.stringify(proto));
  });
});
