/** The recorder's edges: a failing step writes nothing, a state that is not the last one returned gets a keyframe. */
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { applyUpdates, decodeState, encodeState, openRecording, readRecording, seek, verify, type Tree } from "larch";
import { gradAt, larsChain, realParams } from "./runs.js";

const dir = mkdtempSync(join(tmpdir(), "larch-recorder-"));
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

describe("the recorder", () => {
  it("writes nothing for a step the optimizer refuses (a NaN gradient) and keeps its step count", () => {
    const path = join(dir, "nan.larch");
    const opt = larsChain();
    const params = { w: ndarray(new Float32Array([1, 2, 3]), [3]) } as Tree;
    const rec = must(openRecording(path, opt, params, { keyframeEvery: 10, recordGrads: true }));
    const state = must(opt.init(params));
    const before = statSync(path).size;
    const bad = rec.step({ w: ndarray(new Float32Array([1, NaN, 0]), [3]) } as Tree, state, params);
    expect(E.isLeft(bad) && bad.left).toMatchObject({ kind: "NonFinite", step: 0 });
    expect(statSync(path).size).toBe(before);
    expect(rec.nextStep()).toBe(0);
    const good = rec.step({ w: ndarray(new Float32Array([1, 1, 0]), [3]) } as Tree, state, params);
    expect(E.isRight(good)).toBe(true);
    expect(rec.nextStep()).toBe(1);
    must(rec.close());
    expect(E.isLeft(rec.step(params, state, params))).toBe(true);
    expect(must(readRecording(path)).branches.get(0)).toMatchObject({ endStep: 1, complete: true, keyframeSteps: [0, 1] });
  });

  it("writes a keyframe where the state given is not the one it returned (a resumed state), so seeking stays exact", () => {
    const path = join(dir, "resumed.larch");
    const opt = larsChain();
    let params = realParams("float64");
    let state = must(opt.init(params));
    const rec = must(openRecording(path, opt, params, { keyframeEvery: 100, recordGrads: true }));
    const points: unknown[] = [];
    for (let t = 0; t < 6; t++) {
      if (t === 3) state = must(decodeState(must(encodeState(state)))).state as typeof state; // an equal copy
      points.push({ params, state });
      const [u, next] = must(rec.step(gradAt(params, t), state, params));
      params = must(applyUpdates(params, u));
      state = next;
    }
    must(rec.close());
    const recording = must(readRecording(path));
    expect(recording.branches.get(0)!.keyframeSteps).toEqual([0, 3, 6]);
    expect(Buffer.from(must(encodeState(must(seek(recording, 5))))).equals(Buffer.from(must(encodeState(points[5]))))).toBe(true);
    expect(must(verify(recording)).divergence).toBe(null);
  });

  it("refuses settings it cannot record", () => {
    const params = realParams("float32");
    expect(E.isLeft(openRecording(join(dir, "k0.larch"), larsChain(), params, { keyframeEvery: 0, recordGrads: true }))).toBe(true);
    const meta = openRecording(join(dir, "meta.larch"), larsChain(), params, { keyframeEvery: 1, recordGrads: true, meta: { seed: NaN } });
    expect(E.isLeft(meta) && meta.left.message).toMatch(/meta at seed is NaN/);
    const dirAsFile = openRecording(dir, larsChain(), params, { keyframeEvery: 1, recordGrads: true });
    expect(E.isLeft(dirAsFile) && dirAsFile.left.message).toMatch(/cannot create the recording/);
  });
});
