/** The example's recording: deterministic (two runs, same bytes), and a faithful record of the run. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { readRecording, verify } from "larch";
import { reportData } from "../../src/cli/reportFromRecording.js";
import { KEYFRAME_EVERY, recordIrisRun } from "../../examples/iris/recordedRun.js";

describe("the iris example's recording", () => {
  const dir = mkdtempSync(join(tmpdir(), "larch-iris-"));
  const [a, b] = [join(dir, "a.larch"), join(dir, "b.larch")];
  const first = recordIrisRun(a);
  const second = recordIrisRun(b);

  it("is byte-identical across two runs", () => {
    expect(E.isRight(first) && E.isRight(second)).toBe(true);
    expect(readFileSync(a).length).toBeGreaterThan(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
  });

  it("holds every step, keyframes every K steps, and replays bit for bit", () => {
    const rec = readRecording(a);
    expect(E.isRight(rec)).toBe(true);
    if (E.isLeft(rec) || E.isLeft(first)) return;
    const main = rec.right.branches.get(0)!;
    expect(main.endStep).toBe(first.right.steps);
    expect(main.keyframeSteps.every((s) => s % KEYFRAME_EVERY === 0 || s === main.endStep)).toBe(true);
    const report = verify(rec.right);
    expect(E.isRight(report) && report.right.divergence).toBe(null);
    const data = reportData(rec.right);
    expect(E.isRight(data) && data.right.steps.length).toBe(first.right.steps);
    expect(E.isRight(data) && data.right.run.optimizer).toBe("partition(decay: lars, noDecay: lars)");
    expect(E.isRight(data) && data.right.run.hyperparams).toMatchObject({ "noDecay.leaves": "fc1.bias, fc2.bias", "decay.weightDecay": 0.001, "noDecay.weightDecay": 0 });
  });
});
