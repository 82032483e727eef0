/** Checkpoint round trips of real optimizer states: LARS chains and partitions with schedules, float32 and float64. */
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { decodeState, decodeStateFor, encodeState, type Dtype } from "larch";
import { firstDifference } from "./sameState.js";
import { gradAt, larsChain, larsPartition, realParams, runPoints } from "./runs.js";
import type { State } from "../../src/timetravel/stateValue.js";

const optimizers = { "lars chain": larsChain, "partition of two lars with polynomialDecay": larsPartition };

describe.each(["float32", "float64"] as Dtype[])("real %s states", (dtype) => {
  describe.each(Object.entries(optimizers))("%s", (_, make) => {
    it("round-trips bit for bit at every step, and the decoded state continues the run exactly", () => {
      const opt = make();
      const points = runPoints(opt, realParams(dtype), 6);
      for (const [t, point] of points.entries()) {
        const bytes = encodeState(point, { step: t });
        expect(E.isRight(bytes)).toBe(true);
        const back = decodeStateFor(E.isRight(bytes) ? bytes.right : new Uint8Array(), point);
        expect(E.isRight(back) && firstDifference(back.right.state, point as unknown as State)).toBe(undefined);
        if (t + 1 < points.length && E.isRight(back)) {
          const decoded = back.right.state as { params: never; state: unknown };
          const next = opt.update(gradAt(decoded.params, t), decoded.state, decoded.params);
          const direct = opt.update(gradAt(point.params, t), point.state, point.params);
          expect(E.isRight(next) && E.isRight(direct)).toBe(true);
          if (E.isRight(next) && E.isRight(direct))
            expect(firstDifference(next.right as unknown as State, direct.right as unknown as State)).toBe(undefined);
        }
      }
    });
  });

  it("keeps the partition's labels, the schedule's lr and every trust ratio", () => {
    const [, , last] = runPoints(larsPartition(), realParams(dtype), 2);
    const back = decodeState(E.getOrElse((): Uint8Array => new Uint8Array())(encodeState(last!.state)));
    expect(E.isRight(back)).toBe(true);
    const s = (E.isRight(back) ? back.right.state : {}) as { labels: Record<string, string>; inner: { decay: { lr: number; ratios: Record<string, number> }[] } };
    expect(s.labels["fc.bias"]).toBe("noDecay");
    expect(s.labels["conv[0].kernel"]).toBe("decay");
    expect(s.inner.decay[3]!.lr).toBe(polynomialLr(1));
    expect(Object.keys(s.inner.decay[2]!.ratios).sort()).toEqual(["conv[0].kernel", "conv[1].kernel", "fc.weight"]);
  });
});

/** lr(t) of larsPartition's schedule: 0.2·(1 − t/30)². */
const polynomialLr = (t: number): number => (0.2 - 0) * Math.pow(1 - Math.min(t, 30) / 30, 2) + 0;
