/** Recording a run, reading it back, seeking, verifying, forking. */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { ARITHMETIC, decodeState, diffStates, encodeState, fork, lars, readRecording, seek, verify, type Recording } from "larch";
import { recordRun } from "./recordRun.js";
import { gradAt, larsChain, larsPartition, leafCount, realParams, runPoints } from "./runs.js";

const dir = mkdtempSync(join(tmpdir(), "larch-rec-"));
const file = (name: string) => join(dir, name);

const open = (path: string): Recording => {
  const rec = readRecording(path);
  if (E.isLeft(rec)) throw new Error(rec.left.message);
  return rec.right;
};

/** The checkpoint bytes of a point, as a string to compare. */
const bytesOf = (point: unknown): string => E.match(() => "not encodable", (b: Uint8Array) => Buffer.from(b).toString("base64"))(encodeState(point));

describe("a recording", () => {
  const params0 = realParams("float32");
  const path = file("partition.larch");
  const points = recordRun(path, larsPartition(), params0, 23, { keyframeEvery: 5, recordGrads: true, meta: { title: "test" } });
  const rec = open(path);

  it("has a header with the optimizer, K, the leaves and meta, and one stats record per step", () => {
    expect(rec.header.optimizer["name"]).toBe("partition");
    expect(rec.header.keyframeEvery).toBe(5);
    expect(rec.header.leaves.length).toBe(leafCount(params0));
    expect(rec.header.meta).toEqual({ title: "test" });
    const main = rec.branches.get(0)!;
    expect(main.endStep).toBe(23);
    expect(main.complete).toBe(true);
    expect(main.keyframeSteps).toEqual([0, 5, 10, 15, 20, 23]);
    const steps = E.getOrElseW(() => [])(rec.steps());
    expect(steps.map((s) => s.step)).toEqual([...Array(23).keys()]);
    expect(steps[4]!.loss).toBe(1 / 5);
    expect(steps[0]!.leaves[0]!.trustRatio).not.toBe(null);
  });

  it("seeks the exact state of every step, keyframe or not", () => {
    for (let t = 0; t <= 23; t++) {
      const at = seek(rec, t);
      expect(E.isRight(at) && bytesOf(at.right)).toBe(bytesOf(points[t]));
    }
  });

  it("verifies: the replay matches every step and keyframe", () => {
    const report = verify(rec);
    expect(E.isRight(report) && report.right.divergence).toBe(null);
    expect(E.isRight(report) && report.right.branches[0]).toMatchObject({ stepsReplayed: 23, keyframesCompared: 6, exact: true, note: null });
    expect(rec.header.arithmetic).toBe(ARITHMETIC); // this larch's arithmetic, named in the header: compared bit for bit
  });

  it("verify names the first step and leaf where another optimizer diverges", () => {
    const report = verify(rec, { 0: larsPartition(0.2, 0.5) });
    const d = E.isRight(report) ? report.right.divergence : null;
    // momentum 0.5 instead of 0.9 changes nothing at step 0 (b = d), so step 1 is the first to differ
    expect(d).toMatchObject({ branch: 0, step: 1, path: rec.header.leaves[0]!.path });
    expect(d?.message).toMatch(/updateNorm recorded/);
  });

  it("two identical runs write byte-identical files", () => {
    recordRun(file("again.larch"), larsPartition(), params0, 23, { keyframeEvery: 5, recordGrads: true, meta: { title: "test" } });
    expect(Buffer.compare(readFileSync(path), readFileSync(file("again.larch")))).toBe(0);
  });

  it("forks at a step with another lr: the branch shares the prefix and seeks within itself", () => {
    const forkPath = file("fork.larch");
    writeFileSync(forkPath, readFileSync(path));
    const base = open(forkPath);
    const other = larsPartition(0.05);
    const f = fork(base, 12, other);
    expect(E.isRight(f)).toBe(true);
    if (E.isLeft(f)) return;
    const expected = runPoints(other, f.right.start.params, 6, 12, f.right.start.state);
    let point = f.right.start;
    for (let t = 12; t < 18; t++) {
      const step = f.right.recorder.step(gradAt(point.params, t), point.state, point.params);
      expect(E.isRight(step)).toBe(true);
      if (E.isLeft(step)) return;
      point = expected[t - 11]!;
    }
    expect(E.isRight(f.right.recorder.close())).toBe(true);
    const forked = open(forkPath);
    expect([...forked.branches.keys()]).toEqual([0, 1]);
    expect(forked.branches.get(1)).toMatchObject({ parent: 0, forkStep: 12, endStep: 18, complete: true });
    expect((forked.branches.get(1)!.optimizer["hyperparams"] as any).transforms.decay.hyperparams.members[3].hyperparams.lr.init).toBe(0.05);
    // before the fork the branch is the main run; after it, the new optimizer's run
    expect(bytesOf(E.getOrElseW(() => null)(seek(forked, 7, { branch: 1 })))).toBe(bytesOf(points[7]));
    expect(bytesOf(E.getOrElseW(() => null)(seek(forked, 16, { branch: 1 })))).toBe(bytesOf(expected[4]));
    expect(bytesOf(E.getOrElseW(() => null)(seek(forked, 16, { branch: 0 })))).toBe(bytesOf(points[16]));
    const steps = E.getOrElseW(() => [])(forked.steps(1));
    expect(steps.map((s) => s.step)).toEqual([...Array(18).keys()]);
    expect(E.isRight(verify(forked)) && E.getOrElseW(() => null)(verify(forked))?.divergence).toBe(null);
    // diff of the two branches at step 16: the params differ
    const diff = diffStates(E.getOrElseW(() => null)(seek(forked, 16)), E.getOrElseW(() => null)(seek(forked, 16, { branch: 1 })));
    expect(E.isRight(diff) && diff.right.identical).toBe(false);
  });

  it("refuses a fork whose optimizer expects another state", () => {
    const f = fork(rec, 3, larsChain());
    expect(E.isLeft(f) && f.left.message).toMatch(/cannot continue from step 3/);
  });
});

describe("a recording without gradients", () => {
  const path = file("nograds.larch");
  const points = recordRun(path, larsChain(), realParams("float64"), 12, { keyframeEvery: 4, recordGrads: false });
  const rec = open(path);

  it("seeks keyframes exactly and refuses steps between them, saying why", () => {
    expect(bytesOf(E.getOrElseW(() => null)(seek(rec, 8)))).toBe(bytesOf(points[8]));
    const between = seek(rec, 6);
    expect(E.isLeft(between) && between.left.message).toMatch(/between keyframes \(4 and 8\).*without gradients/);
  });

  it("costs only the stats between keyframes: 24 + 8·(3 + 5L) bytes per step", () => {
    const withGrads = file("grads.larch");
    recordRun(withGrads, larsChain(), realParams("float64"), 12, { keyframeEvery: 4, recordGrads: true });
    const L = leafCount(realParams("float64"));
    const keyframes = statSync(path).size - 12 * (24 + 8 * (3 + 5 * L));
    expect(keyframes).toBeGreaterThan(0);
    // the files differ by 12 gradient frames, and by the header's "recordGrads":true instead of false
    expect(statSync(withGrads).size - statSync(path).size).toBe(
      12 * (16 + 8 + E.getOrElseW(() => new Uint8Array())(encodeState(gradAt(realParams("float64"), 0))).length) + ("true".length - "false".length),
    );
    const report = verify(rec);
    expect(E.isRight(report) && report.right.branches[0]!.note).toMatch(/without gradients/);
  });
});

describe("a damaged recording", () => {
  const path = file("small.larch");
  recordRun(path, lars({ lr: 0.1, momentum: 0.9 }), realParams("float32"), 3, { keyframeEvery: 2, recordGrads: true });
  const bytes = readFileSync(path);

  it("truncated anywhere is a Left that says a frame was cut short, or an unfinished run at a frame boundary", () => {
    const cut = file("cut.larch");
    let insideFrame = 0;
    let tried = 0;
    // every length within the last 400 bytes (the final keyframe and end frames), every 11th before; longest
    // first, so each cut is one ftruncate of the same file rather than a new file
    const lengths: number[] = [];
    for (let n = 0; n < bytes.length; n += n < bytes.length - 400 ? 11 : 1) lengths.push(n);
    writeFileSync(cut, bytes);
    const fd = openSync(cut, "r+");
    for (const n of lengths.reverse()) {
      ftruncateSync(fd, n);
      tried++;
      const r = readRecording(cut);
      // a cut at a frame boundary leaves an intact but unfinished recording (no end frame): read, not complete
      if (E.isRight(r)) expect(r.right.branches.get(0)!.complete).toBe(false);
      else if (/ends inside frame/.test(r.left.message)) insideFrame++;
    }
    closeSync(fd);
    expect(insideFrame).toBeGreaterThan(tried * 0.9);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    const partial = readRecording(cut, { allowTruncated: true });
    expect(E.isRight(partial) && partial.right.truncatedAt).toBeGreaterThan(0);
  });

  it("deferring the checks of keyframe and gradient frames: a flipped bit in one is a Left when it is read", () => {
    const header = bytes.readUInt32LE(12);
    const keyframeAt = 8 + 16 + header; // the frame after the header is step 0's keyframe
    expect(bytes.readUInt32LE(keyframeAt)).toBe(3);
    const copy = Buffer.from(bytes);
    copy[keyframeAt + 100] = copy[keyframeAt + 100]! ^ 4;
    const flipped = file("flipped-keyframe.larch");
    writeFileSync(flipped, copy);
    expect(E.isLeft(readRecording(flipped))).toBe(true);
    const deferred = readRecording(flipped, { deferTensorChecks: true });
    expect(E.isRight(deferred)).toBe(true);
    if (E.isLeft(deferred)) return;
    expect(E.isRight(deferred.right.steps())).toBe(true);
    const at0 = seek(deferred.right, 0);
    expect(E.isLeft(at0) && at0.left.message).toMatch(/keyframe frame at byte \d+ fails its CRC-32 check/);
  });

  it("a keyframe cut out of the file is a checkpoint that says its step, branch and optimizer", () => {
    const keyframeAt = 8 + 16 + bytes.readUInt32LE(12); // magic, then the header frame: 12-byte head, payload, CRC
    const length = bytes.readUInt32LE(keyframeAt + 4);
    const checkpoint = bytes.subarray(keyframeAt + 12 + 8, keyframeAt + 12 + length);
    const decoded = decodeState(checkpoint);
    expect(E.isRight(decoded) && decoded.right.meta).toMatchObject({ step: 0, branch: 0, optimizer: { name: "lars" } });
  });

  it("with any single bit flipped is a Left", () => {
    const flipped = file("flipped.larch");
    writeFileSync(flipped, bytes);
    const fd = openSync(flipped, "r+");
    // one byte rewritten in place and put back after each read, rather than a new file per flip
    for (let i = 0; i < bytes.length; i += 7) {
      writeSync(fd, Uint8Array.of(bytes[i]! ^ (1 << (i % 8))), 0, 1, i);
      const r = readRecording(flipped);
      expect(E.isLeft(r), `bit ${i % 8} of byte ${i}`).toBe(true);
      writeSync(fd, bytes, i, 1, i);
    }
    closeSync(fd);
  });
});
