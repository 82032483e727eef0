/** Resume: save after k steps, load in a fresh Node process, continue: the states equal an uninterrupted run's bit for bit. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { encodeState } from "larch";
import { larsChain, larsPartition, realParams, runPoints } from "./runs.js";

const child = fileURLToPath(new URL("./resumeChild.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

const cases = [
  ["chain", "float32", 3, 8],
  ["partition", "float64", 5, 9],
] as const;
const dir = mkdtempSync(join(tmpdir(), "larch-resume-"));
const runs = cases.map(([kind, dtype, k, n]) => {
  const points = runPoints(kind === "chain" ? larsChain() : larsPartition(), realParams(dtype), n);
  return { saved: encodeState(points[k]), uninterrupted: encodeState(points[n]), input: join(dir, `${kind}-k.safetensors`), output: join(dir, `${kind}-n.safetensors`) };
});

describe("resume in a fresh process", () => {
  // one child process resumes both runs (starting one costs about a second)
  beforeAll(() => {
    const args = cases.flatMap(([kind, dtype, k, n], i) => {
      const { saved, input, output } = runs[i]!;
      if (E.isRight(saved)) writeFileSync(input, saved.right);
      return [input, output, kind, dtype, String(k), String(n)];
    });
    execFileSync(tsx, [child, ...args], { stdio: "pipe" });
  });

  it.each(cases.map((c, i) => [...c, i] as const))("%s %s: save after %i steps, continue to %i in a child process, same bytes as without the break", (_kind, _dtype, _k, _n, i) => {
    const { saved, uninterrupted, output } = runs[i]!;
    expect(E.isRight(saved) && E.isRight(uninterrupted)).toBe(true);
    if (!E.isRight(saved) || !E.isRight(uninterrupted)) return;
    const resumed = readFileSync(output);
    expect(Buffer.compare(resumed, Buffer.from(uninterrupted.right))).toBe(0);
    // and the break mattered: step k's state is not step n's
    expect(Buffer.compare(Buffer.from(saved.right), Buffer.from(uninterrupted.right))).not.toBe(0);
  });
});
