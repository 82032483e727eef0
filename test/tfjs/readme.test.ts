/** The README's first example (a TF.js model trained with larchOptimizer), run as written in plain Node on the built package. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("README's TF.js example", () => {
  it.skipIf(!existsSync(`${root}/dist/tfjs/index.js`))("is the first code a reader sees after the commands, and trains", () => {
    const readme = readFileSync(`${root}/README.md`, "utf8");
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const code = blocks[0]!;
    expect(code).toMatch(/from "larch\/tfjs"/);
    expect(code).toMatch(/larchOptimizer\(/);
    // the cpu backend (the union package would try webgl first), and the two numbers it prints
    const script = code.replace(/^(import \* as tf from "@tensorflow\/tfjs";)$/m, '$1\nawait tf.setBackend("cpu");');
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    const [steps, accuracy] = out.trim().split("\n").pop()!.split(" ").map(Number);
    expect(steps).toBe(80);
    expect(accuracy).toBeGreaterThan(0.8);
  });
});
