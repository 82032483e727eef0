/** Resume: save after k steps, load in a fresh Node process, continue: the states equal an uninterrupted run's bit for bit. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { encodeState } from "larch";
import { larsChain, larsPartition, realParams, runPoints } from "./runs.js";

const child = fileURLToPath(new URL("./resumeChild.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));

describe("resume in a fresh process", () => {
  it.each([
    ["chain", "float32", 3, 8],
    ["partition", "float64", 5, 9],
  ] as const)("%s %s: save after %i steps, continue to %i in a child process, same bytes as without the break", (kind, dtype, k, n) => {
    const dir = mkdtempSync(join(tmpdir(), "larch-resume-"));
    const opt = kind === "chain" ? larsChain() : larsPartition();
    const points = runPoints(opt, realParams(dtype), n);
    const saved = encodeState(points[k]);
    const uninterrupted = encodeState(points[n]);
    expect(E.isRight(saved) && E.isRight(uninterrupted)).toBe(true);
    if (!E.isRight(saved) || !E.isRight(uninterrupted)) return;
    writeFileSync(join(dir, "k.safetensors"), saved.right);
    execFileSync(tsx, [child, join(dir, "k.safetensors"), join(dir, "n.safetensors"), kind, dtype, String(k), String(n)], { stdio: "pipe" });
    const resumed = readFileSync(join(dir, "n.safetensors"));
    expect(Buffer.compare(resumed, Buffer.from(uninterrupted.right))).toBe(0);
    // and the break mattered: step k's state is not step n's
    expect(Buffer.compare(Buffer.from(saved.right), Buffer.from(uninterrupted.right))).not.toBe(0);
  });
});
